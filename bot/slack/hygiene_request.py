"""What the /hygiene listener hands each sub-command's handler.

Beside the listeners, not among them (they never import each other): the /hygiene listener
(``bot/slack/listeners/hygiene.py``) parses the command and routes it to the settings form
(``bot.slack.hygiene_settings``), the numbers (``bot.slack.hygiene_stats``) and time off
(``bot.slack.time_off``), each of which takes this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient


@dataclass
class HygieneRequest:
    """What Bolt handed the /hygiene listener, passed on to the sub-command's handler."""

    ack: AsyncAck
    command: dict[str, Any]
    client: AsyncWebClient
    context: AsyncBoltContext
    respond: Any
