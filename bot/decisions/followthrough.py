"""What happens after a decision: its follow-through actions, or "no action needed".

A decision's actions are ordinary action items (``A-<n>``, ``outcomes`` of kind action) whose
``decision_id`` names it, so they are reminded, marked done and exported like any other. One is
an outcome of a meeting only when the decision has one (or one is running in its channel); the
rest have no meeting and live in the decision's conversation (``bot.meetings.place``). Every
change here is a history entry on the decision and counts as its activity. Like the other
services these take keyword-only arguments and never commit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.decisions.models import Decision, DecisionStatus
from bot.decisions.service import ensure_may_change, get_decision, record
from bot.errors import Conflict
from bot.meetings import place
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.validation import TITLE_MAX, require_text
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey


def _ensure_decided(decision: Decision) -> None:
    if decision.status != DecisionStatus.DECIDED:
        raise Conflict(
            code="followthrough.not_decided", ref=decision.ref, status=str(decision.status)
        )


def ensure_may_add_action(decision: Decision, actor: Actor) -> None:
    """Raise unless ``actor`` may add a follow-through action to ``decision`` now."""
    ensure_may_change(decision, actor)
    _ensure_decided(decision)


async def actions_of(session: AsyncSession, *, ws: WorkspaceKey, decision_id: int) -> list[Outcome]:
    """The follow-through actions of one decision, oldest first."""
    found = await session.scalars(
        select(Outcome)
        .where(
            Outcome.in_workspace(ws),
            Outcome.decision_id == decision_id,
            Outcome.kind == OutcomeKind.ACTION,
        )
        .order_by(Outcome.number)
        .options(*place.load())
    )
    return list(found)


async def _meeting_for(
    session: AsyncSession, *, ws: WorkspaceKey, decision: Decision
) -> Meeting | None:
    """The meeting a new action of ``decision`` is an outcome of, if any: the meeting that
    decided it, else one running in its channel now. Otherwise none: the action belongs to the
    decision alone, and no unrelated meeting is credited with an outcome."""
    if decision.meeting_id is not None:
        meeting = await session.scalar(
            select(Meeting)
            .where(Meeting.in_workspace(ws), Meeting.id == decision.meeting_id)
            .options(selectinload(Meeting.outcomes))
        )
        if meeting is not None:
            return meeting
    return await meetings.open_meeting(session, ws=ws, channel_id=decision.channel_id)


async def add_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    text: str,
    owner_id: str | None,
    due_date: date | None,
    now: datetime,
    visible: Visibility | None = None,
) -> tuple[Decision, Outcome]:
    """A new action item ``A-<n>`` for decided ``D-<number>``; its owner defaults to the actor."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    ensure_may_change(decision, actor)
    _ensure_decided(decision)
    meeting = await _meeting_for(session, ws=ws, decision=decision)
    draft = meetings.OutcomeDraft(text=text, owner_id=owner_id or actor.user_id, due_date=due_date)
    if meeting is None:
        outcome = await meetings.add_decision_action(
            session, ws=ws, decision=decision, draft=draft, creator_id=actor.user_id, now=now
        )
    else:
        outcome = await meetings.add_outcome(
            session, ws=ws, meeting=meeting, draft=draft, creator_id=actor.user_id, now=now
        )
        outcome.decision_id = decision.id
    _clear_no_action(decision)
    record(decision, actor_id=actor.user_id, action="action_added", now=now, number=outcome.number)
    return decision, outcome


async def link_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    action_number: int,
    actor: Actor,
    now: datetime,
    visible: Visibility | None = None,
) -> tuple[Decision, Outcome]:
    """Make existing action ``A-<action_number>`` one of decided ``D-<number>``'s actions."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    ensure_may_change(decision, actor)
    _ensure_decided(decision)
    outcome = await meetings.get_action(session, ws=ws, number=action_number, visible=visible)
    if outcome.decision_id == decision.id:
        raise Conflict(code="followthrough.already_linked", outcome=outcome.ref, ref=decision.ref)
    if outcome.decision_id is not None:
        other = await session.get(Decision, outcome.decision_id)
        raise Conflict(
            code="followthrough.linked_elsewhere",
            outcome=outcome.ref,
            other=other.ref if other is not None else None,
        )
    outcome.decision_id = decision.id
    outcome.updated_at = now
    _clear_no_action(decision)
    record(decision, actor_id=actor.user_id, action="action_linked", now=now, number=outcome.number)
    return decision, outcome


async def may_say_no_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    visible: Visibility | None = None,
) -> Decision:
    """Decided ``D-<number>``, if ``actor`` may say it needs no action now; raises otherwise."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    ensure_may_change(decision, actor)
    _ensure_decided(decision)
    if await actions_of(session, ws=ws, decision_id=decision.id):
        raise Conflict(code="followthrough.has_actions", ref=decision.ref)
    if decision.no_action_at is not None:
        raise Conflict(code="followthrough.already_no_action", ref=decision.ref)
    return decision


async def no_action_needed(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    reason: str,
    now: datetime,
    visible: Visibility | None = None,
) -> Decision:
    """The owner's answer that decided ``D-<number>`` needs no action, with a one-line reason."""
    decision = await may_say_no_action(session, ws=ws, number=number, actor=actor, visible=visible)
    decision.no_action_reason = require_text(
        reason, what="reason", limit=TITLE_MAX, single_line=True
    )
    decision.no_action_by = actor.user_id
    decision.no_action_at = now
    record(
        decision,
        actor_id=actor.user_id,
        action="no_action_needed",
        now=now,
        reason=decision.no_action_reason,
    )
    return decision


def _clear_no_action(decision: Decision) -> None:
    """An action after all: the decision no longer says none was needed."""
    decision.no_action_reason = None
    decision.no_action_by = None
    decision.no_action_at = None


async def link_to_meeting_decision(
    session: AsyncSession, *, ws: WorkspaceKey, meeting: Meeting, action: Outcome, now: datetime
) -> Decision | None:
    """A new action added in a meeting that decided exactly one decision follows through on it.

    With several decided there, which one it serves is the person's to say
    (``/decision act D-<n> A-<m>``); with none, it is an ordinary action item.
    """
    if action.kind != OutcomeKind.ACTION or action.decision_id is not None:
        return None
    decided = list(
        await session.scalars(
            select(Decision)
            .where(
                Decision.in_workspace(ws),
                Decision.meeting_id == meeting.id,
                Decision.status == DecisionStatus.DECIDED,
            )
            .options(selectinload(Decision.events))
            .limit(2)
        )
    )
    if len(decided) != 1:
        return None
    (decision,) = decided
    action.decision_id = decision.id
    _clear_no_action(decision)
    record(
        decision,
        actor_id=action.creator_id,
        action="action_linked",
        now=now,
        number=action.number,
    )
    return decision


def has_follow_through() -> ColumnElement[bool]:
    """The decision (row of ``decisions``) has an action, or its owner said none is needed."""
    return Decision.no_action_at.is_not(None) | exists().where(
        Outcome.decision_id == Decision.id, Outcome.kind == OutcomeKind.ACTION
    )


async def waiting_on_follow_through(
    session: AsyncSession, *, ws: WorkspaceKey, owner_id: str, limit: int = 20
) -> list[Decision]:
    """Decided decisions of ``owner_id`` with no action and no "no action needed", oldest first."""
    found = await session.scalars(
        select(Decision)
        .where(
            Decision.in_workspace(ws),
            Decision.status == DecisionStatus.DECIDED,
            Decision.owner_id == owner_id,
            ~has_follow_through(),
        )
        .order_by(Decision.decided_at, Decision.number)
        .limit(limit)
    )
    return list(found)
