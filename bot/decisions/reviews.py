"""Reviews: on a decided decision's review day its owner is asked "Did D-12 hold?".

A review day (``review_on``) is given when deciding (``review DATE``, the decide modal), set or
cleared later (``/decision review D-12 DATE|none``), or defaults to ``review_after_days`` after
the decision (cadence ``[decisions]``, 0 = none). Each answer is a ``decision_reviews`` row and a
history entry, and counts as activity:

- kept: nothing changes but the review day, which is cleared;
- amended: the resolution is replaced (the old one stays in history and in the review row);
- reversed: the decision is marked ``reversed``, with the reason;
- too early: the owner is asked again ``review_again_days`` later.

Like the other services these take keyword-only arguments and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig
from bot.decisions.models import Decision, DecisionReview, DecisionStatus, ReviewAnswer
from bot.decisions.service import ensure_may_change, get_decision, record
from bot.errors import Conflict
from bot.validation import TEXT_MAX, require_text
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

#: Reviews App Home lists at once; the rest are counted.
HOME_LIMIT = 5


def default_review_on(decided_at: datetime, cadence: CadenceConfig) -> date | None:
    """The review day a decision decided at ``decided_at`` gets when none was asked for:
    ``review_after_days`` after its local day in the workspace's zone; None when that is 0."""
    days = cadence.decisions.review_after_days
    if days <= 0:
        return None
    return decided_at.astimezone(cadence.zone).date() + timedelta(days=days)


def review_on_for(
    asked: date | None, *, decided_at: datetime, cadence: CadenceConfig
) -> date | None:
    """The review day to store when deciding: the one asked for, else the cadence default."""
    return asked if asked is not None else default_review_on(decided_at, cadence)


def _ensure_decided(decision: Decision, doing: str) -> None:
    if decision.status != DecisionStatus.DECIDED:
        raise Conflict(
            code="review.not_decided", ref=decision.ref, status=str(decision.status), doing=doing
        )


def _ensure_future(day: date, today: date) -> None:
    if day < today:
        raise Conflict(code="review.date_past")


async def set_review(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    review_on: date | None,
    today: date,
    now: datetime,
    visible: Visibility | None = None,
) -> Decision:
    """Set (or, with None, clear) the review day of decided ``D-<number>``; a history entry."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    ensure_may_change(decision, actor)
    _ensure_decided(decision, "be reviewed")
    if review_on is not None:
        _ensure_future(review_on, today)
    previous = decision.review_on
    if previous == review_on:
        if review_on is None:
            raise Conflict(code="review.nothing_to_clear", ref=decision.ref)
        raise Conflict(code="review.same_day", ref=decision.ref)
    decision.review_on = review_on
    record(
        decision,
        actor_id=actor.user_id,
        action="review_set",
        now=now,
        **{
            "from": previous.isoformat() if previous else None,
            "to": review_on.isoformat() if review_on else None,
        },
    )
    return decision


def ensure_may_answer(decision: Decision, actor: Actor, *, due_on: date | None = None) -> None:
    """Raise unless ``actor`` may answer the review of ``decision`` now (for review day
    ``due_on``, when the question names one: an older question is out of date)."""
    ensure_may_change(decision, actor)
    _ensure_decided(decision, "be reviewed")
    if decision.review_on is None:
        raise Conflict(code="review.none_waiting", ref=decision.ref)
    if due_on is not None and decision.review_on != due_on:
        raise Conflict(
            code="review.out_of_date", ref=decision.ref, due=decision.review_on.isoformat()
        )


async def answer_review(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    answer: ReviewAnswer,
    today: date,
    now: datetime,
    cadence: CadenceConfig,
    due_on: date | None = None,
    resolution: str | None = None,
    reason: str | None = None,
    visible: Visibility | None = None,
) -> tuple[Decision, DecisionReview]:
    """Record the owner's answer to "Did D-<number> hold?"; see the module's docstring."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    ensure_may_answer(decision, actor, due_on=due_on)
    asked = decision.review_on
    assert asked is not None  # ensure_may_answer
    review = DecisionReview(
        **DecisionReview.key_values(ws),
        decision_id=decision.id,
        answer=answer.value,
        actor_id=actor.user_id,
        due_on=asked,
        answered_at=now,
    )
    detail: dict[str, str | None] = {"due": asked.isoformat()}
    match answer:
        case ReviewAnswer.KEPT:
            decision.review_on = None
            action = "review_kept"
        case ReviewAnswer.AMENDED:
            new = require_text(resolution or "", what="new resolution", limit=TEXT_MAX)
            if new == decision.resolution:
                raise Conflict(code="review.same_resolution", ref=decision.ref)
            review.resolution_before, review.resolution_after = decision.resolution, new
            detail |= {"from": decision.resolution, "to": new}
            decision.resolution = new
            decision.review_on = None
            action = "amended"
        case ReviewAnswer.REVERSED:
            why = require_text(reason or "", what="reason", limit=TEXT_MAX)
            review.reason = why
            detail["reason"] = why
            decision.status = DecisionStatus.REVERSED
            decision.reversed_at = now
            decision.reversal_reason = why
            decision.review_on = None
            action = "reversed"
        case ReviewAnswer.TOO_EARLY:
            again = max(today, asked) + timedelta(days=cadence.decisions.review_again_days)
            review.next_on = again
            detail["next"] = again.isoformat()
            decision.review_on = again
            action = "review_too_early"
    session.add(review)
    record(decision, actor_id=actor.user_id, action=action, now=now, **detail)
    return decision, review


async def reviews_due(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    owner_id: str,
    today: date,
    limit: int = HOME_LIMIT + 1,
) -> Sequence[Decision]:
    """Decided decisions of ``owner_id`` whose review day has come, oldest review first."""
    found = await session.scalars(
        select(Decision)
        .where(
            Decision.in_workspace(ws),
            Decision.status == DecisionStatus.DECIDED,
            Decision.review_on <= today,
            Decision.owner_id == owner_id,
        )
        .order_by(Decision.review_on, Decision.number)
        .limit(limit)
    )
    return list(found)
