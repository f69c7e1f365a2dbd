"""The re-litigation warning's Slack side shared by `/decision new`, the new-decision modal and
the warning's buttons (``bot/slack/listeners/relitigation.py``); it sits beside the listeners so
none of them imports another."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions.models import Decision
from bot.decisions.relitigation import Repeat, find_repeat
from bot.errors import InvalidInput
from bot.slack.blocks import relitigation as render
from bot.slack.deps import Deps
from bot.slack.parsing.items import item_number
from bot.workspace import WorkspaceKey

STALE = "That button is out of date; `/decision show D-<n>` shows a decision."

Respond = Callable[..., Awaitable[Any]]


async def lookup(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    user_id: str,
    title: str,
    *,
    here: str | None,
    exclude_id: int | None = None,
) -> Repeat | None:
    """The decision ``title`` looks like, among those ``user_id`` may see (``here`` counts)."""
    visible = await deps.visibility(client, ws, user_id, here=here)
    async with deps.db.transaction() as session:
        return await find_repeat(
            session,
            ws=ws,
            title=title,
            visible=visible,
            now=deps.now(),
            relitigation_days=deps.cadence.decisions.relitigation_days,
            exclude_id=exclude_id,
        )


async def warn_after_record(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    decision: Decision,
    respond: Respond,
) -> None:
    """After `/decision new` acknowledged ``decision``: say, to its recorder alone, what it
    looks like, with Show / Reopen / Supersede / Different / Undo."""
    repeat = await lookup(
        deps,
        client,
        ws,
        decision.creator_id,
        decision.title,
        here=decision.channel_id,
        exclude_id=decision.id,
    )
    if repeat is None:
        return
    today = deps.now().astimezone(deps.cadence.zone).date()
    await respond(
        response_type="ephemeral",
        replace_original=False,
        text=render.warning_text(decision, repeat.decision, today=today),
        blocks=render.warning(decision, repeat.decision, today=today),
    )


def button_numbers(action: dict[str, Any], ws: WorkspaceKey) -> tuple[int, int]:
    """(new, old) from a warning button: both must be this workspace's decisions."""
    try:
        value = json.loads(str(action.get("value") or ""))
        new, old = value["new"], value["old"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(STALE) from None
    return (
        item_number(new, "D", team_id=ws.team_id, stale=STALE),
        item_number(old, "D", team_id=ws.team_id, stale=STALE),
    )
