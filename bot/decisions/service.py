"""What can be done to a decision, with the rules that guard it and the history it leaves.

Functions take keyword-only arguments and work inside the caller's transaction; they never
commit. Every query is filtered by the workspace key.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.cadence.config import CadenceConfig
from bot.decisions import asks, cards
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.decisions.stall import stalled_now
from bot.errors import Conflict, Forbidden, NotFound
from bot.meetings import links
from bot.meetings.models import Meeting
from bot.nudges import notices
from bot.nudges.service import ensure_snooze_ends_later
from bot.numbering import next_numbers
from bot.paging import Page
from bot.validation import TEXT_MAX, TITLE_MAX, clean_text, require_text
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

LIST_LIMIT = 20
HOME_LIMIT = 10


class ListScope(enum.StrEnum):
    CHANNEL = "channel"
    MINE = "mine"
    STALLED = "stalled"
    ALL = "all"
    USER = "user"


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
    raise Forbidden(
        code="decision.may_not_change",
        ref=decision.ref,
        owner=decision.owner_id,
        creator=decision.creator_id,
    )


def _facts(decision: Decision) -> notices.DecisionFacts:
    return notices.DecisionFacts(
        number=decision.number, owner_id=decision.owner_id, creator_id=decision.creator_id
    )


async def _tell(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    decision: Decision,
    change: notices.Change,
    actor: Actor,
    now: datetime,
    before: notices.DecisionFacts | None = None,
) -> None:
    """Plan the DMs telling the decision's creator (and whoever it was escalated to) of
    ``change``, in this transaction; ``before`` is the decision as it was (a reassignment)."""
    await notices.tell_decision_change(
        session,
        ws=ws,
        ref=decision.ref,
        before=before or _facts(decision),
        change=change,
        actor_id=actor.user_id,
        now=now,
        new_owner=decision.owner_id if change is notices.Change.REASSIGNED else None,
    )


#: For the other decision services (bot/decisions/followthrough.py).
record = _record
ensure_may_change = _ensure_may_change


def _ensure_open(decision: Decision, doing: str) -> None:
    if decision.status != DecisionStatus.OPEN:
        raise Conflict(
            code="decision.not_open", ref=decision.ref, status=str(decision.status), doing=doing
        )


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
    # Set for a decision that was already made ("/decision log", "Decided already"): it is
    # stored decided, in the same transaction, with both history entries.
    resolution: str | None = None
    # Recorded in a DM or group DM (``Decision.direct``).
    direct: bool = False
    # A decision already made may be given its review day at once.
    review_on: date | None = None


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
    resolution: str | None = None,
    direct: bool = False,
    review_on: date | None = None,
) -> NewDecision:
    """Check the user's text; raises ``InvalidInput`` before anything touches the database.

    With ``resolution`` the decision is recorded as already made.
    """
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
        resolution=(
            require_text(resolution, what="resolution", limit=TEXT_MAX)
            if resolution is not None
            else None
        ),
        direct=direct,
        review_on=review_on if resolution is not None else None,
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
                direct=r.direct,
                status=DecisionStatus.OPEN,
                due_date=r.due_date,
                created_at=r.now,
                updated_at=r.now,
                last_activity_at=r.now,
                source_permalink=r.source_permalink,
                meeting_id=meeting.id if meeting else None,
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
            if r.resolution is not None:
                decision.status = DecisionStatus.DECIDED
                decision.resolution = r.resolution
                decision.decided_at = r.now
                decision.review_on = r.review_on
                _record(
                    decision,
                    actor_id=r.creator_id,
                    action="decided",
                    now=r.now,
                    resolution=r.resolution,
                    **_review_detail(r.review_on),
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
    for ws, batch in by_workspace.items():
        # Each new decision's channel card is a ledger row from the start (bot/decisions/cards.py).
        await cards.plan_cards(session, decisions=[made[id(r)] for r in batch], now=batch[0].now)
        if any(r.resolution is not None for r in batch):
            await asks.ask_what_next(
                session, ws=ws, decisions=[made[id(r)] for r in batch], now=batch[0].now
            )
    # Whoever was made owner by someone else hears of it (a decision recorded as made is news
    # for nobody: there is nothing left for its owner to do).
    await notices.plan(
        session,
        [
            notices.owner_notice(
                ws=r.ws,
                kind=notices.NoticeKind.DECISION_OWNER,
                ref=made[id(r)].ref,
                number=made[id(r)].number,
                owner_id=r.owner_id,
                actor_id=r.creator_id,
                now=r.now,
                created=True,
            )
            for r in requests
            if r.resolution is None
        ],
    )
    return decisions


def _review_detail(review_on: date | None) -> dict[str, str]:
    """The review day in a "decided" history entry, when there is one."""
    return {"review": review_on.isoformat()} if review_on is not None else {}


def decision_not_found(number: int) -> NotFound:
    """The one answer for a decision that is missing, in another workspace, or not the asker's
    to see: all three look alike, so a private conversation's decisions do not leak."""
    return NotFound(code="decision.not_found", number=number)


def visible_clause(visible: Visibility) -> ColumnElement[bool]:
    """Decisions ``visible.reader`` may see: a readable conversation's, or their own."""
    return visible.clause(Decision.channel_id, Decision.owner_id, Decision.creator_id)


async def get_decision(
    session: AsyncSession, *, ws: WorkspaceKey, number: int, visible: Visibility | None = None
) -> Decision:
    """D-``number``; with ``visible``, only if its reader may see it (else the same NotFound)."""
    query = select(Decision).where(Decision.in_workspace(ws), Decision.number == number)
    if visible is not None:
        query = query.where(visible_clause(visible))
    found = await session.scalar(query.options(selectinload(Decision.events)))
    if found is None:
        raise decision_not_found(number)
    return found


# The decisions' conversations by a loose index scan: one index seek per conversation
# (ix_decisions_ws_channel_status), where DISTINCT would read every decision's entry.
_DECISION_CHANNELS = text(
    """
    WITH RECURSIVE used(channel_id) AS (
        SELECT min(channel_id) FROM decisions WHERE enterprise_id = :e AND team_id = :t
        UNION ALL
        SELECT (
            SELECT min(d.channel_id) FROM decisions d
            WHERE d.enterprise_id = :e AND d.team_id = :t AND d.channel_id > used.channel_id
        )
        FROM used WHERE used.channel_id IS NOT NULL
    )
    SELECT channel_id FROM used WHERE channel_id IS NOT NULL
    """
)


async def channels_in_use(session: AsyncSession, *, ws: WorkspaceKey) -> set[str]:
    """Every conversation holding a decision or a meeting: what a reader's rights are asked of."""
    found = await session.execute(_DECISION_CHANNELS, {"e": ws.enterprise_id, "t": ws.team_id})
    meetings = await session.scalars(
        select(Meeting.channel_id).where(Meeting.in_workspace(ws)).distinct()
    )
    return {row[0] for row in found} | set(meetings.all())


async def mark_direct(session: AsyncSession, *, ws: WorkspaceKey, channel_id: str) -> int:
    """Slack says ``channel_id`` is a DM or group DM: its decisions and meetings are direct.

    For items recorded before the conversation's kind was known (a cold cache when the
    command came); returns how many rows changed.
    """
    decisions = await session.execute(
        update(Decision)
        .where(Decision.in_workspace(ws), Decision.channel_id == channel_id, ~Decision.direct)
        .values(direct=True)
        .execution_options(synchronize_session=False)
    )
    meetings = await session.execute(
        update(Meeting)
        .where(Meeting.in_workspace(ws), Meeting.channel_id == channel_id, ~Meeting.direct)
        .values(direct=True)
        .execution_options(synchronize_session=False)
    )
    return sum(int(getattr(r, "rowcount", 0) or 0) for r in (decisions, meetings))


async def decide(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    resolution: str,
    now: datetime,
    channel_id: str | None = None,
    visible: Visibility | None = None,
    review_on: date | None = None,
) -> Decision:
    """Record what was decided; ``review_on``, when given, is the day its owner is asked
    whether it held (bot/decisions/reviews.py)."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "decided")
    decision.resolution = require_text(resolution, what="resolution", limit=TEXT_MAX)
    decision.status = DecisionStatus.DECIDED
    decision.decided_at = now
    decision.review_on = review_on
    _record(
        decision,
        actor_id=actor.user_id,
        action="decided",
        now=now,
        resolution=resolution,
        **_review_detail(review_on),
    )
    await asks.ask_what_next(session, ws=ws, decisions=[decision], now=now)
    await _tell(
        session, ws=ws, decision=decision, change=notices.Change.DECIDED, actor=actor, now=now
    )
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
    visible: Visibility | None = None,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "reassigned")
    if decision.owner_id == owner_id:
        raise Conflict(code="decision.already_owner", ref=decision.ref, owner=owner_id)
    before = _facts(decision)
    decision.owner_id = owner_id
    _record(
        decision,
        actor_id=actor.user_id,
        action="assigned",
        now=now,
        **{"from": before.owner_id, "to": owner_id},
    )
    await notices.plan(
        session,
        [
            notices.owner_notice(
                ws=ws,
                kind=notices.NoticeKind.DECISION_OWNER,
                ref=decision.ref,
                number=decision.number,
                owner_id=owner_id,
                actor_id=actor.user_id,
                now=now,
                created=False,
            )
        ],
    )
    await _tell(
        session,
        ws=ws,
        decision=decision,
        change=notices.Change.REASSIGNED,
        actor=actor,
        now=now,
        before=before,
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
    visible: Visibility | None = None,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
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
    visible: Visibility | None = None,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "dropped")
    decision.drop_reason = clean_text(reason, what="reason", limit=TEXT_MAX, required=False)
    decision.status = DecisionStatus.DROPPED
    decision.dropped_at = now
    _record(
        decision, actor_id=actor.user_id, action="dropped", now=now, reason=decision.drop_reason
    )
    await _tell(
        session, ws=ws, decision=decision, change=notices.Change.DROPPED, actor=actor, now=now
    )
    return decision


async def reopen(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    now: datetime,
    visible: Visibility | None = None,
) -> Decision:
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    if decision.status == DecisionStatus.OPEN:
        raise Conflict(code="decision.already_open", ref=decision.ref)
    previous = decision.status
    if previous == DecisionStatus.SUPERSEDED and decision.superseded_by is not None:
        await _forget_superseding(session, ws=ws, old=decision, actor_id=actor.user_id, now=now)
    decision.status = DecisionStatus.OPEN
    decision.resolution = None
    decision.decided_at = None
    decision.drop_reason = None
    decision.dropped_at = None
    decision.review_on = None
    decision.reversed_at = None
    decision.reversal_reason = None
    _record(decision, actor_id=actor.user_id, action="reopened", now=now, **{"from": previous})
    return decision


async def edit(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    field: str,
    text: str,
    now: datetime,
    visible: Visibility | None = None,
) -> Decision:
    """Rewrite the title or the context, keeping the old text in history; counts as activity."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    if field == "title":
        new = require_text(text, what="decision title", limit=TITLE_MAX, single_line=True)
        previous: str | None = decision.title
        if new == previous:
            raise Conflict(code="decision.same_title", ref=decision.ref)
        decision.title = new
    elif field == "context":
        new = require_text(text, what="context", limit=TEXT_MAX)
        previous = decision.context
        if new == previous:
            raise Conflict(code="decision.same_context", ref=decision.ref)
        decision.context = new
    else:
        raise Conflict(code="decision.not_editable", field=field)
    _record(
        decision,
        actor_id=actor.user_id,
        action="edited",
        now=now,
        field=field,
        **{"from": previous, "to": new},
    )
    return decision


async def note(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    text: str,
    now: datetime,
    visible: Visibility | None = None,
) -> Decision:
    """Add a note to the history, whatever the state; anyone in the workspace may. Activity."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    written = require_text(text, what="note", limit=TEXT_MAX)
    _record(decision, actor_id=actor.user_id, action="noted", now=now, text=written)
    # Search reads the notes from the row itself (the index is kept from its columns).
    decision.notes = written if not decision.notes else f"{decision.notes}\n{written}"
    return decision


def ensure_may_be_superseded(old: Decision, new: Decision | None, actor: Actor) -> None:
    """Raise unless ``actor`` may mark ``old`` as replaced by ``new`` (checked before writing).

    ``new`` None: by a decision still to be recorded (the modal's "Supersedes").
    """
    if new is not None and old.number == new.number:
        raise Conflict(code="decision.supersedes_itself", ref=old.ref)
    _ensure_may_change(old, actor)
    if old.status == DecisionStatus.SUPERSEDED:
        raise Conflict(code="decision.already_superseded", ref=old.ref, by=old.superseded_by)
    if old.status == DecisionStatus.DROPPED:
        raise Conflict(code="decision.dropped", ref=old.ref)
    if new is not None and new.status in (DecisionStatus.SUPERSEDED, DecisionStatus.DROPPED):
        raise Conflict(code="decision.superseding_not_live", ref=new.ref, status=str(new.status))


async def supersede(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    old_number: int,
    new_number: int,
    actor: Actor,
    now: datetime,
    visible: Visibility | None = None,
) -> tuple[Decision, Decision]:
    """Mark decision ``old_number`` as replaced by ``new_number``; both get a history entry.

    The old one leaves the open and stalled counts (its status is ``superseded``) and keeps its
    resolution, if it had one; the new one lists it under ``supersedes``.
    """
    old = await get_decision(session, ws=ws, number=old_number, visible=visible)
    new = await get_decision(session, ws=ws, number=new_number, visible=visible)
    ensure_may_be_superseded(old, new, actor)
    previous = old.status
    old.status = DecisionStatus.SUPERSEDED
    old.superseded_by = new.number
    old.superseded_at = now
    new.supersedes = [*(new.supersedes or []), old.number]
    _record(
        old,
        actor_id=actor.user_id,
        action="superseded",
        now=now,
        by=new.number,
        **{"from": previous},
    )
    _record(new, actor_id=actor.user_id, action="supersedes", now=now, number=old.number)
    return old, new


async def _forget_superseding(
    session: AsyncSession, *, ws: WorkspaceKey, old: Decision, actor_id: str, now: datetime
) -> None:
    """A superseded decision is reopened: the one that replaced it stops listing it."""
    newer = await session.scalar(
        select(Decision)
        .where(Decision.in_workspace(ws), Decision.number == old.superseded_by)
        .options(selectinload(Decision.events))
    )
    if newer is not None and old.number in (newer.supersedes or []):
        newer.supersedes = [n for n in newer.supersedes or [] if n != old.number]
        _record(newer, actor_id=actor_id, action="supersedes_undone", now=now, number=old.number)
    old.superseded_by = None
    old.superseded_at = None


async def snooze(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    until: datetime,
    now: datetime,
    zone: str | None = None,
    visible: Visibility | None = None,
) -> Decision:
    """Hold the decision's reminders until ``until``; the history keeps the end and ``zone``,
    the snoozer's time zone, so it can say when on their clock."""
    decision = await get_decision(session, ws=ws, number=number, visible=visible)
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "snoozed")
    ensure_snooze_ends_later(until, now=now)
    decision.snoozed_until = until
    detail = {"until": until.isoformat()} | ({"zone": zone} if zone else {})
    _record(decision, actor_id=actor.user_id, action="snoozed", now=now, **detail)
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


async def list_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    scope: ListScope,
    now: datetime,
    cadence: CadenceConfig,
    visible: Visibility,
    days_off: Mapping[str, Collection[date]] | None = None,
    channel_id: str | None = None,
    user_id: str | None = None,
    limit: int = LIST_LIMIT,
    offset: int = 0,
) -> Page[Decision]:
    """Open decisions for one view of the workspace, most urgent (oldest due, then oldest) first.

    "Stalled" is judged at ``now`` by the workspace's ``cadence``, a decision's owner's
    ``days_off`` (their away days) not counting as working days. Only what ``visible`` allows
    is counted and listed, so the page and its total are right however much the reader may not
    see.
    """
    where = [
        Decision.in_workspace(ws),
        Decision.status == DecisionStatus.OPEN,
        visible_clause(visible),
    ]
    if scope is ListScope.CHANNEL:
        where.append(Decision.channel_id == channel_id)
    elif scope is ListScope.MINE or scope is ListScope.USER:
        where.append(Decision.owner_id == user_id)
    elif scope is ListScope.STALLED:
        where.append(stalled_now(now, cadence, days_off))
    return await _urgent_page(session, where, limit=limit, offset=offset)


_URGENT_FIRST = (Decision.due_date.is_(None), Decision.due_date, Decision.number)


async def _urgent_page(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], *, limit: int, offset: int
) -> Page[Decision]:
    """Count and page the decisions matching ``where``, most urgent first.

    The count and the page's numbers come from ix_decisions_ws_status_reads alone (every
    column the privacy rule and the order read is in it); only the page's rows are loaded.
    """
    total = await session.scalar(select(func.count(Decision.number)).where(*where))
    numbers = list(
        (
            await session.scalars(
                select(Decision.number)
                .where(*where)
                .order_by(*_URGENT_FIRST)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    )
    rows = {
        d.number: d
        for d in await session.scalars(
            select(Decision).where(*where[:1], Decision.number.in_(numbers))
        )
    }
    items = [rows[n] for n in numbers if n in rows]
    return Page(items=items, total=int(total or 0), offset=offset)


async def home_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    visible: Visibility,
    owned_offset: int = 0,
    waiting_offset: int = 0,
    limit: int = HOME_LIMIT,
) -> tuple[Page[Decision], Page[Decision]]:
    """Open decisions the reader owns, and open ones they recorded that wait on someone else.

    Both are within the privacy rule by construction: its owner-or-creator half. Asking for
    the other half as well would only keep the database from using the owner's index.
    """
    user_id = visible.reader
    base = [Decision.in_workspace(ws), Decision.status == DecisionStatus.OPEN]
    owned = await _urgent_page(
        session, [*base, Decision.owner_id == user_id], limit=limit, offset=owned_offset
    )
    waiting = await _urgent_page(
        session,
        [*base, Decision.creator_id == user_id, Decision.owner_id != user_id],
        limit=limit,
        offset=waiting_offset,
    )
    return owned, waiting


def ensure_may_drop(decision: Decision, actor: Actor) -> None:
    """Raise what ``drop`` would for ``actor`` before any reason is asked for."""
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "dropped")


def ensure_may_decide(decision: Decision, actor: Actor) -> None:
    """Raise unless ``actor`` may decide ``decision`` now (checked before opening a modal)."""
    _ensure_may_change(decision, actor)
    _ensure_open(decision, "decided")
