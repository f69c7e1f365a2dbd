"""Redrawing a live message after its item changed: the composer of `bot.delivery.live`'s
refresh rows, and the one way the listeners plan and send them.

A refresh row names the message (conversation, ``ts``) and the sent row that posted it. When
the refresh is sent, the message is drawn again from the item's state *then*, by the redraw
registered for the kind of that row: a channel card shows the item as it now stands (its buttons
those of the new state), a reminder or owner notice keeps its buttons while the item still waits
for its reader and otherwise says what became of it, and a daily DM is redrawn whole, each
entry as `bot.slack.daily_compose` draws it. The sender replaces the message with
``chat.update``; a message that is gone (deleted, its channel archived) settles the row.

Listeners call `plan` in the transaction of the change and `send` after their ack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.decisions.cards import CARD_KIND
from bot.decisions.models import Decision
from bot.delivery import ledger, live
from bot.delivery.models import Delivery
from bot.errors import NotFound
from bot.meetings import service as meetings
from bot.meetings.models import Outcome
from bot.meetings.posts import OUTCOME_CARD_KIND, SUMMARY_KIND
from bot.nudges import daily
from bot.nudges.notices import NoticeKind
from bot.nudges.rules import NudgeKind
from bot.slack.blocks import decisions as render_decisions
from bot.slack.blocks import meetings as render_meetings
from bot.slack.blocks import notices as render_notices
from bot.slack.blocks import nudges as render
from bot.slack.compose import (
    ComposeContext,
    Composed,
    Composers,
    OutgoingMessage,
    fetch_actions,
    fetch_decisions,
)
from bot.slack.daily_compose import redraw_daily
from bot.slack.deps import Deps
from bot.workspace import WorkspaceKey

Redraw = Callable[[ComposeContext, Delivery], Awaitable[render.Rendered | None]]
"""The message the sent row ``origin`` posted, as it should read now; None: leave it be."""


def _number(origin: Delivery) -> int:
    return int((origin.payload or {}).get("number", 0))


def _channel_today(ctx: ComposeContext) -> datetime:
    return ctx.now.astimezone(ctx.cadence.zone)


# --- decisions ----------------------------------------------------------------------------------


async def _decision_card(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    d = await ctx.load(fetch_decisions, _number(origin))
    if d is None:
        return None
    today = _channel_today(ctx).date()
    return render_decisions.card_fallback_text(d), render_decisions.decision_card(d, today=today)


def _decision_waits_for(d: Decision, recipient: str, now: datetime) -> bool:
    return (
        d.is_open
        and d.owner_id == recipient
        and (d.snoozed_until is None or d.snoozed_until <= now)
    )


async def _decision_settled(ctx: ComposeContext, d: Decision, recipient: str) -> render.Rendered:
    zone = await ctx.zone_of(recipient)
    return render.entry_name(d.ref, d), [
        render.decision_state(d, recipient=recipient, zone=zone, now=ctx.now)
    ]


async def _decision_reminder(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    d = await ctx.load(fetch_decisions, _number(origin))
    if d is None:
        return None
    if not _decision_waits_for(d, origin.recipient, ctx.now):
        return await _decision_settled(ctx, d, origin.recipient)
    zone = await ctx.zone_of(origin.recipient)
    reminder = int((origin.payload or {}).get("reminder", 1))
    return render.decision_nudge(
        d, reminder=reminder, today=ctx.now.astimezone(zone).date(), zone=zone
    )


async def _decision_owner_notice(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    d = await ctx.load(fetch_decisions, _number(origin))
    if d is None:
        return None
    if not (d.is_open and d.owner_id == origin.recipient):
        return await _decision_settled(ctx, d, origin.recipient)
    payload = origin.payload or {}
    return render_notices.decision_owner(
        d, by=str(payload.get("by", "")), created=bool(payload.get("created", False))
    )


# --- action items -------------------------------------------------------------------------------


async def _action_settled(ctx: ComposeContext, a: Outcome, recipient: str) -> render.Rendered:
    zone = await ctx.zone_of(recipient)
    return render.entry_name(a.ref or "", a), [
        render.action_state(a, recipient=recipient, zone=zone, now=ctx.now)
    ]


async def _action_reminder(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    a = await ctx.load(fetch_actions, _number(origin))
    if a is None:
        return None
    waits = a.done_at is None and a.owner_id == origin.recipient
    if not waits or (a.snoozed_until is not None and a.snoozed_until > ctx.now):
        return await _action_settled(ctx, a, origin.recipient)
    return render.action_nudge(a, reminder=int((origin.payload or {}).get("reminder", 1)))


async def _action_owner_notice(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    a = await ctx.load(fetch_actions, _number(origin))
    if a is None:
        return None
    if a.done_at is not None or a.owner_id != origin.recipient:
        return await _action_settled(ctx, a, origin.recipient)
    payload = origin.payload or {}
    return render_notices.action_owner(
        a, by=str(payload.get("by", "")), created=bool(payload.get("created", False))
    )


async def _outcome_card(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    async with ctx.db.transaction() as session:
        outcome = await session.scalar(
            select(Outcome)
            .where(Outcome.in_workspace(ctx.ws), Outcome.id == int(origin.payload["id"]))
            .options(selectinload(Outcome.meeting), selectinload(Outcome.decision))
        )
    if outcome is None:
        return None
    return render_meetings.outcome_text(outcome), render_meetings.outcome_card(
        outcome, meeting=outcome.meeting, today=_channel_today(ctx).date()
    )


async def _summary(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
    async with ctx.db.transaction() as session:
        try:
            meeting = await meetings.get_meeting(session, ws=ctx.ws, number=_number(origin))
        except NotFound:
            return None
        decisions = await meetings.linked_decisions(session, ws=ctx.ws, meetings=[meeting])
    return render_meetings.summary_text(meeting), render_meetings.meeting_summary(
        meeting, decisions=decisions, today=_channel_today(ctx).date()
    )


# --- the registry -------------------------------------------------------------------------------


def _in_daily_or(alone: Redraw | None) -> Redraw:
    """A reminder bundled into a daily DM redraws that DM; one sent on its own, ``alone``."""

    async def redraw(ctx: ComposeContext, origin: Delivery) -> render.Rendered | None:
        channel_id, ts = origin.message_channel_id or "", origin.message_ts or ""
        async with ctx.db.transaction() as session:
            dm = await daily.daily_message(
                session, ws=ctx.ws, recipient=origin.recipient, channel_id=channel_id, ts=ts
            )
        if dm is not None:
            zone = await ctx.zone_of(dm.recipient)
            return await redraw_daily(ctx.db, ctx.ws, dm, zone=zone, now=ctx.now)
        return None if alone is None else await alone(ctx, origin)

    return redraw


REDRAWS: dict[str, Redraw] = {
    CARD_KIND: _decision_card,
    NudgeKind.DECISION: _in_daily_or(_decision_reminder),
    NudgeKind.ACTION: _in_daily_or(_action_reminder),
    NudgeKind.MEETING: _in_daily_or(None),
    NudgeKind.ORPHAN: _in_daily_or(None),
    NoticeKind.DECISION_OWNER: _decision_owner_notice,
    NoticeKind.ACTION_OWNER: _action_owner_notice,
    OUTCOME_CARD_KIND: _outcome_card,
    SUMMARY_KIND: _summary,
}
"""Kinds of sent rows whose messages show an item and are redrawn when it changes (the kinds
without buttons, such as escalations and change notices, say what happened once and stay)."""


async def compose_refresh(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The message a refresh row replaces, drawn from the item's state now; None (the row is
    cancelled) when that message or its item is no longer there to redraw."""
    async with ctx.db.transaction() as session:
        origin = await live.origin_of(session, refresh=delivery)
    redraw = REDRAWS.get(origin.kind) if origin is not None else None
    if origin is None or redraw is None:
        return None
    drawn = await redraw(ctx, origin)
    if drawn is None:
        return None
    channel_id, ts = live.refresh_target(delivery)
    text, blocks = drawn
    return OutgoingMessage(
        channel=channel_id, text=text, blocks=blocks, replaces=ts, holdable=False
    )


def register_refreshes(composers: Composers) -> None:
    composers.register(live.REFRESH_KIND, compose_refresh)


# --- for the listeners --------------------------------------------------------------------------


def decision_subjects(d: Decision) -> list[str]:
    return [d.ref]


def action_subjects(a: Outcome) -> list[str]:
    """An action item's messages: its reminders and notices (``A-n``), its card, and its
    meeting's summary, which lists it with its Done button."""
    subjects = [f"outcome:{a.id}"]
    if a.ref:
        subjects.append(a.ref)
    if a.meeting is not None:
        subjects.append(a.meeting.ref)
    return subjects


async def plan(
    session: AsyncSession, *, ws: WorkspaceKey, subjects: Collection[str], now: datetime
) -> list[ledger.Planned]:
    """Plan the refresh of every live message about ``subjects``, in the change's transaction."""
    return await live.plan_refreshes(session, ws=ws, subjects=subjects, kinds=REDRAWS, now=now)


async def send(deps: Deps, ws: WorkspaceKey, rows: Sequence[ledger.Planned]) -> None:
    """After the ack: send the rows just planned (refreshes, an announcement) through the
    outbox; what Slack could not take now, the worker sends."""
    if not rows:
        return
    assert deps.outbox is not None, "the web app is built by bot.server.wire"
    await deps.outbox.deliver_planned(ws, list(rows))
