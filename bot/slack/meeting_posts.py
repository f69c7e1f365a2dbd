"""A meeting's channel summary and an outcome's channel card, composed when their ledger rows
are sent (planned by the listeners, bot/meetings/posts.py).

Composed from the state at send time: a summary shows every outcome recorded by then, and an
outcome card shows whether it is done. Each records its message's channel and ``ts`` in the
transaction that settles the row as sent, so later changes update it in place.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.delivery.models import Delivery
from bot.errors import NotFound
from bot.meetings import service
from bot.meetings.models import Meeting, Outcome
from bot.meetings.posts import OUTCOME_CARD_KIND, SUMMARY_KIND
from bot.slack.blocks import meetings as render
from bot.slack.compose import ComposeContext, Composed, Composers, OutgoingMessage
from bot.workspace import WorkspaceKey


async def _remember_summary(
    session: AsyncSession, channel_id: str, ts: str, *, ws: WorkspaceKey, number: int
) -> None:
    await service.remember_meeting_message(
        session, ws=ws, number=number, channel_id=channel_id, ts=ts
    )


async def _remember_outcome(
    session: AsyncSession, channel_id: str, ts: str, *, ws: WorkspaceKey, outcome_id: int
) -> None:
    await service.remember_outcome_message(
        session, ws=ws, outcome_id=outcome_id, channel_id=channel_id, ts=ts
    )


async def compose_summary(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The ended meeting's summary, unless it is gone or its summary is shown already."""
    number = int(delivery.payload["number"])
    async with ctx.db.transaction() as session:
        try:
            meeting: Meeting = await service.get_meeting(session, ws=ctx.ws, number=number)
        except NotFound:
            return None
        decisions = await service.linked_decisions(session, ws=ctx.ws, meetings=[meeting])
    if (
        meeting.channel_id != delivery.recipient
        or meeting.message_ts is not None
        or meeting.ended_at is None
    ):
        return None
    today = ctx.now.astimezone(ctx.cadence.zone).date()
    return OutgoingMessage(
        channel=meeting.channel_id,
        text=render.summary_text(meeting),
        blocks=render.meeting_summary(meeting, decisions=decisions, today=today),
        record=partial(_remember_summary, ws=ctx.ws, number=meeting.number),
        holdable=False,
    )


async def compose_outcome_card(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """A new outcome's card, unless it is gone or its card is shown already."""
    async with ctx.db.transaction() as session:
        outcome = await session.scalar(
            select(Outcome)
            .where(Outcome.in_workspace(ctx.ws), Outcome.id == int(delivery.payload["id"]))
            .options(selectinload(Outcome.meeting), selectinload(Outcome.decision))
        )
    if outcome is None or outcome.message_ts is not None:
        return None
    channel = outcome.meeting.channel_id if outcome.meeting is not None else outcome.channel_id
    if channel != delivery.recipient:
        return None
    today = ctx.now.astimezone(ctx.cadence.zone).date()
    return OutgoingMessage(
        channel=channel,
        text=render.outcome_text(outcome),
        blocks=render.outcome_card(outcome, meeting=outcome.meeting, today=today),
        record=partial(_remember_outcome, ws=ctx.ws, outcome_id=outcome.id),
        holdable=False,
    )


def register_meeting_posts(composers: Composers) -> None:
    composers.register(SUMMARY_KIND, compose_summary)
    composers.register(OUTCOME_CARD_KIND, compose_outcome_card)
