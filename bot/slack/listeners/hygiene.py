"""/hygiene: one command, routed to the admin settings and the managers' numbers."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import hygiene_settings, hygiene_stats, time_off
from bot.slack.hygiene_request import HygieneRequest
from bot.slack.ids import Command
from bot.slack.parsing import commands as grammar


def register(app: AsyncApp) -> None:
    app.command(Command.HYGIENE)(hygiene_command)


async def hygiene_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    cmd = grammar.parse_hygiene(command.get("text") or "")
    request = HygieneRequest(
        ack=ack, command=command, client=client, context=context, respond=respond
    )
    match cmd:
        case grammar.Help():
            await ack(response_type="ephemeral", text=grammar.HYGIENE_USAGE)
        case grammar.HygieneSettings():
            await hygiene_settings.open_settings(request)
        case grammar.HygieneStats():
            await hygiene_stats.show_stats(request, cmd)
        case grammar.HygieneDigest(preview=True):
            await hygiene_stats.digest_preview(request)
        case grammar.HygieneDigest():
            await hygiene_stats.send_digest_now(request)
        case grammar.HygieneExport():
            await hygiene_stats.export(request, cmd)
        case grammar.HygieneAway():
            await time_off.away(request, cmd)
        case grammar.HygieneBack():
            await time_off.back(request)
