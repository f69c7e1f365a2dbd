"""What can be done to a decision, with the rules that guard it and the history it leaves.

Functions take keyword-only arguments and work inside the caller's transaction; they never
commit. Every query is filtered by the workspace key.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.errors import Conflict, Forbidden, NotFound
from bot.meetings import links
from bot.meetings.models import Meeting
from bot.numbering import next_numbers
from bot.validation import TEXT_MAX, TITLE_MAX, clean_text, require_text
from bot.workspace import Actor, WorkspaceKey

LIST_LIMIT = 50
# A new decision's channel card is posted by the web process right after the acknowledgement;
# the worker leaves it to that process this long before posting it itself.
CARD_GRACE = timedelta(minutes=1)
# A card Slack could not take for a passing reason is tried again this much later …
CARD_RETRY = timedelta(minutes=1)
# … and a card still not posted a day on is given up: "new decision" would be old news.
CARD_GIVE_UP = timedelta(days=1)


class ListScope(enum.StrEnum):
    CHANNEL = "channel"
    MINE = "mine"
    STALLED = "stalled"
    ALL = "all"
    USER = "user"


def stalled_clause(*, today: date, activity_cutoff: datetime) -> ColumnElement[bool]:
    """Open and past due (before ``today``), or no activity since ``activity_cutoff``.

    The cadence layer works out both moments in the workspace's time zone and working days, so
    this stays one indexable SQL condition however many decisions there are.
    """
    return and_(
        Decision.status == DecisionStatus.OPEN,
        or_(Decision.due_date < today, Decision.last_activity_at <= activity_cutoff),
    )


def _record(
    decision: Decision, *, actor_id: str, action: str, now: datetime, **detail: Any
) -> None:
    decision.events.append(
        DecisionEvent(
            enterprise_id=decision.enterprise_id,
            team_id=decision.team_id,
            actor_id=actor_id,
            action=action,
            detail=detail,
            at=now,
        )
    )
    decision.updated_at = now
    decision.last_activity_at = now


def _ensure_may_change(decision: Decision, actor: Actor) -> None:
    if actor.is_admin or actor.user_id in (decision.creator_id, decision.owner_id):
        return
    if decision.owner_id == decision.creator_id:
        raise Forbidden(
            f"Only <@{decision.owner_id}> (who owns and recorded {decision.ref}) or a workspace "
            "admin can change it."
        )
    raise Forbidden(
        f"Only the owner (<@{decision.owner_id}>), the person who recorded {decision.ref} "
        f"(<@{decision.creator_id}>) or a workspace admin can change it."
    )


def _ensure_open(decision: Decision, doing: str) -> None:
    if decision.status != DecisionStatus.OPEN:
        hint = f" Use `/decision reopen {decision.ref}` first." if doing != "reopen" else ""
        if doing == str(decision.status):
            raise Conflict(f"{decision.ref} is already {decision.status}.{hint}")
        raise Conflict(f"{decision.ref} is {decision.status}, so it can't be {doing}.{hint}")


@dataclass(frozen=True, slots=True)
class NewDecision:
    """A checked request to record a decision; build it with ``new_decision``."""

    ws: WorkspaceKey
    title: str
    owner_id: str
    creator_id: str
    channel_id: str
    now: datetime
    due_date: date | None = None
    context: str | None = None
    source_permalink: str | None = None


def new_decision(
    *,
    ws: WorkspaceKey,
    title: str,
    owner_id: str,
    creator_id: str,
    channel_id: str,
    now: datetime,
    due_date: date | None = None,
    context: str | None = None,
    source_permalink: str | None = None,
) -> NewDecision:
    """Check the user's text; raises ``InvalidInput`` before anything touches the database."""
    return NewDecision(
        ws=ws,
        title=require_text(title, what="decision title", limit=TITLE_MAX, single_line=True),
        context=clean_text(context, what="context", limit=TEXT_MAX, required=False),
        owner_id=owner_id,
        creator_id=creator_id,
        channel_id=channel_id,
        now=now,
        due_date=due_date,
        source_permalink=source_permalink,
    )


async def create_decision(session: AsyncSession, request: NewDecision) -> Decision:
    """Record one decision in the caller's transaction."""
    return (await create_decisions(session, [request]))[0]


async def create_decisions(
    session: AsyncSession, requests: Sequence[NewDecision]
) -> list[Decision]:
    """Record decisions in the caller's transaction, numbered in the order given.

    However many there are, this takes one counter bump and one open-meeting lookup per
    workspace, then one INSERT per table: many commands arriving together cost little more than
    one (see ``bot/group_commit.py``). A decision made in a channel whose meeting is open becomes
    one of that meeting's outcomes.
    """
    by_workspace: dict[WorkspaceKey, list[NewDecision]] = {}
    for request in requests:
        by_workspace.setdefault(request.ws, []).append(request)
    made: dict[int, Decision] = {}
    linked: list[tuple[Decision, Meeting, NewDecision]] = []
    for ws, batch in by_workspace.items():
        first = await next_numbers(session, ws=ws, series="decision", count=len(batch))
        meetings = await links.open_meetings_in(
            session, ws=ws, channel_ids={r.channel_id for r in batch}
        )
        for offset, r in enumerate(batch):
            meeting = meetings.get(r.channel_id)
            decision = Decision(
                **Decision.key_values(ws),
                number=first + offset,
                title=r.title,
                context=r.context,
                owner_id=r.owner_id,
                creator_id=r.creator_id,
                channel_id=r.channel_id,
                status=DecisionStatus.OPEN,
                due_date=r.due_date,
                created_at=r.now,
                updated_at=r.now,
                last_activity_at=r.now,
                source_permalink=r.source_permalink,
                meeting_id=meeting.id if meeting else None,
                card_due_at=r.now + CARD_GRACE,
                events=[],
            )
            _record(
                decision,
                actor_id=r.creator_id,
                action="created",
                now=r.now,
                owner=r.owner_id,
                due=r.due_date.isoformat() if r.due_date else None,
            )
            made[id(r)] = decision
            if meeting is not None:
                linked.append((decision, meeting, r))
    decisions = [made[id(r)] for r in requests]
    session.add_all(decisions)
    await session.flush()
    for decision, meeting, r in linked:
        links.add_decision_outcome(
            session, ws=r.ws, decision=decision, meeting=meeting, actor_id=r.creator_id, now=r.now
        )
    return decisions


async def get_decision(session: AsyncSession, *, ws: WorkspaceKey, number: int) -> Decision:
    found = await session.scalar(
        select(Decision)
        .where(Decision.in_workspace(ws), Decision.number == number)
        .options(selectinload(Decision.events))
    )
    if found is None:
        raise NotFound(
            f"There is no D-{number} in this workspace. `/decision list all` shows them."
        )
    return found


async def get_decision_by_id(
    session: AsyncSession, *, ws: WorkspaceKey, decision_id: int
) -> Decision:
    found = await session.scalar(
        select(Decision)
        .where(Decision.in_workspace(ws), Decision.id == decision_id)
        .options(selectinload(Decision.events))
    )
    if found is None:
        raise NotFound("That decision no longer exists in this workspace.")
    return found


async def decide(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    resolution: str,
    now: datetime,
    channel_id: str | None = None,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "decided")
    decision.resolution = require_text(resolution, what="resolution", limit=TEXT_MAX)
    decision.status = DecisionStatus.DECIDED
    decision.decided_at = now
    _record(decision, actor_id=actor.user_id, action="decided", now=now, resolution=resolution)
    if channel_id is not None:
        await links.link_decision_to_open_meeting(
            session,
            ws=ws,
            decision=decision,
            channel_id=channel_id,
            actor_id=actor.user_id,
            now=now,
        )
    return decision


async def assign(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    owner_id: str,
    now: datetime,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "reassigned")
    if decision.owner_id == owner_id:
        raise Conflict(f"<@{owner_id}> already owns {decision.ref}.")
    previous = decision.owner_id
    decision.owner_id = owner_id
    _record(
        decision,
        actor_id=actor.user_id,
        action="assigned",
        now=now,
        **{"from": previous, "to": owner_id},
    )
    return decision


async def set_due(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    due_date: date | None,
    now: datetime,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "rescheduled")
    previous = decision.due_date
    decision.due_date = due_date
    _record(
        decision,
        actor_id=actor.user_id,
        action="due_changed",
        now=now,
        **{
            "from": previous.isoformat() if previous else None,
            "to": due_date.isoformat() if due_date else None,
        },
    )
    return decision


async def drop(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    reason: str | None,
    now: datetime,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "dropped")
    decision.drop_reason = clean_text(reason, what="reason", limit=TEXT_MAX, required=False)
    decision.status = DecisionStatus.DROPPED
    decision.dropped_at = now
    _record(
        decision, actor_id=actor.user_id, action="dropped", now=now, reason=decision.drop_reason
    )
    return decision


async def reopen(
    session: AsyncSession, *, ws: WorkspaceKey, number: int, actor: Actor, now: datetime
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    if decision.status == DecisionStatus.OPEN:
        raise Conflict(f"{decision.ref} is already open.")
    previous = decision.status
    decision.status = DecisionStatus.OPEN
    decision.resolution = None
    decision.decided_at = None
    decision.drop_reason = None
    decision.dropped_at = None
    _record(decision, actor_id=actor.user_id, action="reopened", now=now, **{"from": previous})
    return decision


async def snooze(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    until: datetime,
    now: datetime,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "snoozed")
    if until <= now:
        raise Conflict("A snooze has to end in the future.")
    decision.snoozed_until = until
    _record(decision, actor_id=actor.user_id, action="snoozed", now=now, until=until.isoformat())
    return decision


async def remember_message(
    session: AsyncSession, *, ws: WorkspaceKey, decision_id: int, channel_id: str, ts: str
) -> None:
    """Keep the channel message that shows a decision, so later changes update it in place."""
    await session.execute(
        update(Decision)
        .where(Decision.in_workspace(ws), Decision.id == decision_id)
        .values(message_channel_id=channel_id, message_ts=ts)
        .execution_options(synchronize_session=False)
    )


async def claim_card(session: AsyncSession, *, ws: WorkspaceKey, decision_id: int) -> bool:
    """Take on posting a decision's channel card; False if it is posted or another took it.

    Taking it clears ``card_due_at`` in one UPDATE, so two processes never post the same card:
    a card is posted at most once, and ``release_card`` puts it back after a failure that
    certainly left nothing in Slack.
    """
    taken = await session.execute(
        update(Decision)
        .where(
            Decision.in_workspace(ws), Decision.id == decision_id, Decision.card_due_at.is_not(None)
        )
        .values(card_due_at=None)
        .returning(Decision.id)
        .execution_options(synchronize_session=False)
    )
    return taken.first() is not None


async def release_card(
    session: AsyncSession, *, ws: WorkspaceKey, decision_id: int, retry_at: datetime
) -> None:
    await session.execute(
        update(Decision)
        .where(Decision.in_workspace(ws), Decision.id == decision_id, Decision.message_ts.is_(None))
        .values(card_due_at=retry_at)
        .execution_options(synchronize_session=False)
    )


async def due_cards(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[Decision]:
    """Cards due for the worker, oldest first, across workspaces; gives up stale ones first.

    This is the worker's sweep, like the deliveries ledger's claim: each decision returned
    carries its own workspace key, and ``claim_card`` is still what decides who posts it.
    """
    await session.execute(
        update(Decision)
        .where(Decision.card_due_at.is_not(None), Decision.created_at < now - CARD_GIVE_UP)
        .values(card_due_at=None)
        .execution_options(synchronize_session=False)
    )
    found = await session.scalars(
        select(Decision)
        .where(Decision.card_due_at <= now)
        .order_by(Decision.card_due_at, Decision.id)
        .limit(limit)
    )
    return list(found)


async def list_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    scope: ListScope,
    stalled: ColumnElement[bool],
    channel_id: str | None = None,
    user_id: str | None = None,
    visible_channels: Sequence[str] | None = None,
    limit: int = LIST_LIMIT,
) -> list[Decision]:
    """Open decisions for one view of the workspace, most urgent (oldest due, then oldest) first.

    ``stalled`` is the clause from ``stalled_clause``; ``visible_channels``, when given, keeps the
    list to channels the viewer may see.
    """
    query = select(Decision).where(
        Decision.in_workspace(ws), Decision.status == DecisionStatus.OPEN
    )
    if scope is ListScope.CHANNEL:
        query = query.where(Decision.channel_id == channel_id)
    elif scope is ListScope.MINE or scope is ListScope.USER:
        query = query.where(Decision.owner_id == user_id)
    elif scope is ListScope.STALLED:
        query = query.where(stalled)
    if visible_channels is not None:
        query = query.where(Decision.channel_id.in_(list(visible_channels)))
    query = query.order_by(Decision.due_date.is_(None), Decision.due_date, Decision.number).limit(
        limit
    )
    return list((await session.scalars(query)).all())


async def home_decisions(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, limit: int = 20
) -> tuple[list[Decision], list[Decision]]:
    """Open decisions the user owns, and open ones they recorded that wait on someone else."""
    base = select(Decision).where(Decision.in_workspace(ws), Decision.status == DecisionStatus.OPEN)
    order = (Decision.due_date.is_(None), Decision.due_date, Decision.number)
    owned = await session.scalars(
        base.where(Decision.owner_id == user_id).order_by(*order).limit(limit)
    )
    waiting = await session.scalars(
        base.where(Decision.creator_id == user_id, Decision.owner_id != user_id)
        .order_by(*order)
        .limit(limit)
    )
    return list(owned.all()), list(waiting.all())


def ensure_may_drop(decision: Decision, actor: Actor) -> None:
    """Raise what ``drop`` would for ``actor`` before any reason is asked for."""
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "dropped")


def ensure_may_decide(decision: Decision, actor: Actor) -> None:
    """Raise unless ``actor`` may decide ``decision`` now (checked before opening a modal)."""
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "decided")
