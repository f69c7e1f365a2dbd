"""The Snooze menus on reminders (decisions and action items).

Decide, Reassign and Drop on a decision reminder are the decision card's own buttons and are
handled in `bot.slack.listeners.decisions`; Record outcomes, No outcome needed and Done belong to
the meetings listeners. Snoozing is handled here: it is activity on the item, and the reminder
it was chosen on turns into a note saying until when.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions import service as decisions
from bot.delivery import ledger, live
from bot.errors import InvalidInput
from bot.meetings import service as meetings
from bot.nudges import service as nudges
from bot.nudges.service import SNOOZE_DAYS
from bot.slack import refreshes, replies
from bot.slack.blocks import nudges as render
from bot.slack.deps import deps_of, workspace_of
from bot.slack.ids import Action
from bot.slack.parsing.items import item_number
from bot.timeoff import service as timeoff
from bot.workspace import Actor, WorkspaceKey

OUT_OF_DATE = "That menu is out of date; the item may have changed. Try `/decision list mine`."


def register(app: AsyncApp) -> None:
    app.action(Action.SNOOZE)(decision_snooze_chosen)
    app.action(Action.ACTION_SNOOZE)(action_snooze_chosen)


def snooze_choice(action: dict[str, Any], prefix: str, ws: WorkspaceKey) -> tuple[int, int]:
    """(item number, days) from a Snooze menu's chosen option, ``T…:<prefix>-<n>:<days>``."""
    selected = action.get("selected_option")
    value = str((selected.get("value") if isinstance(selected, dict) else None) or "")
    item, _, days = value.rpartition(":")
    number = item_number(item, prefix, team_id=ws.team_id, stale=OUT_OF_DATE)
    if not (days.isascii() and days.isdigit() and int(days) in SNOOZE_DAYS):
        raise InvalidInput(OUT_OF_DATE)
    return number, int(days)


def _pressed_message(body: dict[str, Any]) -> tuple[str, str] | None:
    container = body.get("container") or {}
    if container.get("type") != "message":
        return None
    channel_id, ts = container.get("channel_id"), container.get("message_ts")
    return (channel_id, ts) if channel_id and ts else None


async def decision_snooze_chosen(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    async def store(
        session: AsyncSession, *, end: EndFor, **change: Any
    ) -> tuple[str, str, nudges.SnoozeEnd]:
        current = await decisions.get_decision(
            session, ws=change["ws"], number=change["number"], visible=change["visible"]
        )
        snooze = end(current.due_date)
        decision = await decisions.snooze(
            session, **change, until=snooze.until, zone=snooze.zone.key
        )
        return decision.ref, decision.title, snooze

    await _snooze(ack, body, action, client, context, "D", store)


async def action_snooze_chosen(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    async def store(
        session: AsyncSession, *, end: EndFor, **change: Any
    ) -> tuple[str, str, nudges.SnoozeEnd]:
        current = await meetings.get_action(
            session, ws=change["ws"], number=change["number"], visible=change["visible"]
        )
        snooze = end(current.due_date)
        item = await nudges.snooze_action(session, **change, until=snooze.until)
        return item.ref or f"A-{change['number']}", item.text, snooze

    await _snooze(ack, body, action, client, context, "A", store)


EndFor = Callable[[date | None], nudges.SnoozeEnd]
"""The snooze's end for an item with this due date (the person's zone and days are known)."""
Store = Callable[..., Awaitable[tuple[str, str, nudges.SnoozeEnd]]]
"""Stores a snooze (keyword arguments: ws, number, actor, now, end, visible); returns (ref, title,
end)."""


async def _snooze(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    prefix: str,
    store: Store,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number, days = snooze_choice(action, prefix, ws)
    user_id = body["user"]["id"]
    now = deps.now()
    here = (body.get("channel") or {}).get("id") or None
    visible = await deps.visibility(client, ws, user_id, here=here)
    zone = await deps.user_zone(client, ws, user_id)
    async with deps.db.transaction() as session:
        facts = await timeoff.person_time_off(session, ws=ws, user_id=user_id, now=now)
    # The person's away days are not working days: a snooze never ends inside their time off.
    cadence = facts.cadence_of(user_id, await deps.cadence_for(ws))

    def end(due_date: date | None) -> nudges.SnoozeEnd:
        return nudges.snooze_end(now, days, zone=zone, cadence=cadence, due_date=due_date)

    async def snooze(
        actor: Actor,
    ) -> tuple[str, str, nudges.SnoozeEnd, list[ledger.Planned]]:
        async with deps.db.transaction() as session:
            ref, title, snoozed = await store(
                session, ws=ws, number=number, actor=actor, now=now, end=end, visible=visible
            )
            # Its reminders, notices and daily DM entries say until when: redrawn by the outbox.
            redraw = await refreshes.plan(session, ws=ws, subjects=[ref], now=now)
            return ref, title, snoozed, redraw

    ref, title, snoozed, redraw = await deps.as_actor(client, ws, user_id, snooze)
    # Acknowledged once the snooze is stored, so a refusal reaches the person first.
    await ack()
    await refreshes.send(deps, ws, redraw)
    pressed = _pressed_message(body)
    if pressed is not None and any(
        live.refresh_target_of(row.payload) == pressed for row in redraw
    ):
        return  # the message pressed on is one of those the outbox just redrew
    await _show_snoozed(client, body, ref=ref, title=title, end=snoozed)


async def _show_snoozed(
    client: AsyncWebClient,
    body: dict[str, Any],
    *,
    ref: str,
    title: str,
    end: nudges.SnoozeEnd,
) -> None:
    """Turn the reminder into a note of the snooze; tell the person directly if that fails."""
    text, blocks = render.snoozed(ref, title, end=end)
    pressed = _pressed_message(body)
    if pressed is not None and await replies.update_message(
        client, channel_id=pressed[0], ts=pressed[1], text=text, blocks=blocks
    ):
        return
    await replies.tell_user(client, body, text, blocks=blocks)
