"""/hygiene stats, digest preview and export: the managers' numbers, on request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import Conflict
from bot.slack.parsing import commands as grammar


@dataclass
class HygieneRequest:
    """What Bolt handed the /hygiene listener, passed on to the sub-command's handler."""

    ack: AsyncAck
    command: dict[str, Any]
    client: AsyncWebClient
    context: AsyncBoltContext
    respond: Any


UNAVAILABLE = Conflict("This part of /hygiene is not available in this build yet.")


async def show_stats(request: HygieneRequest, cmd: grammar.HygieneStats) -> None:
    raise UNAVAILABLE


async def digest_preview(request: HygieneRequest, cmd: grammar.HygieneDigest) -> None:
    raise UNAVAILABLE


async def export(request: HygieneRequest) -> None:
    raise UNAVAILABLE
