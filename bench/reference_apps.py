"""Two reference apps on the same server stack as Followthrough, for the command benchmark.

``bare`` only acknowledges (the framework's floor); ``minimal`` does the least durable work a
command that promises a reference must do: one transaction taking the next number and
inserting one row, then the ack. Run with ``python -m bench.reference_apps KIND PORT``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import uvicorn
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.db import Database
from bot.models import Decision
from bot.numbering import next_number
from bot.settings import load_settings
from bot.slack.client import web_client
from bot.web import SlackGate, create_web_app, settle_heap
from bot.workspace import WorkspaceKey


def build(kind: str) -> Any:
    settings = load_settings()
    assert settings.slack_signing_secret and settings.slack_bot_token
    db = Database(settings.database_url)
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=web_client(settings, token=settings.slack_bot_token.get_secret_value()),
    )

    async def bare(ack: AsyncAck) -> None:
        await ack(text="ok")

    async def minimal(ack: AsyncAck, command: dict[str, Any], context: AsyncBoltContext) -> None:
        ws = WorkspaceKey(team_id=context.get("team_id") or "")
        now = datetime.now(UTC)
        async with db.transaction() as session:
            number = await next_number(session, ws=ws, series="decision")
            session.add(
                Decision(
                    **Decision.key_values(ws),
                    number=number,
                    title=command["text"],
                    owner_id=command["user_id"],
                    creator_id=command["user_id"],
                    channel_id=command["channel_id"],
                    status="open",
                    created_at=now,
                    updated_at=now,
                    last_activity_at=now,
                )
            )
        await ack(text=f"Recorded *D-{number}*.")

    app.command("/decision")(bare if kind == "bare" else minimal)
    # The signature check every Slack app makes; no replay ledger, no follow-up queue.
    gate = SlackGate(signing_secret=settings.slack_signing_secret.get_secret_value(), once=None)
    return create_web_app(app, db, oauth=False, gate=gate, follow_ups=None)


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    web = build(kind)
    settle_heap()  # the same process tuning as `python -m bot serve`
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", access_log=False)
