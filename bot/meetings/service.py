"""What can be done to meetings and their outcomes, with the rules that guard them.

A meeting is started and ended in its channel (one open at a time) or logged after the fact.
What it produced is recorded as outcomes: notes, action items (an owner or a date makes an
outcome an action, numbered A-<n>) and decisions linked by ``bot.meetings.links``. An ended
meeting with no outcome and no "no outcome needed" reason is *outcome-free*: it still owes one.

Functions take keyword-only arguments and work inside the caller's transaction; they never
commit. Every query is filtered by the workspace key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot.decisions.models import Decision
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.meetings import place
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.nudges import notices
from bot.numbering import next_number, next_numbers
from bot.paging import Page, page_of
from bot.validation import TEXT_MAX, TITLE_MAX, require_text
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

T = TypeVar("T")

LIST_LIMIT = 15
HOME_LIMIT = 20
#: A reason for "no outcome needed" is one line, as long as a title.
REASON_MAX = TITLE_MAX


@dataclass(frozen=True, slots=True)
class OutcomeDraft:
    """One outcome as typed, before it is stored; an owner or a date makes it an action."""

    text: str
    owner_id: str | None = None
    due_date: date | None = None

    @property
    def is_action(self) -> bool:
        return self.owner_id is not None or self.due_date is not None


# --- SQL conditions other parts reuse (App Home, nudges, stats) ---------------------------


def has_outcome() -> ColumnElement[bool]:
    return exists().where(Outcome.meeting_id == Meeting.id)


def outcome_free_clause() -> ColumnElement[bool]:
    """Ended, with no outcome recorded and no "no outcome needed" reason."""
    return and_(
        Meeting.ended_at.is_not(None),
        Meeting.no_outcome_reason.is_(None),
        ~has_outcome(),
    )


def open_action_clause() -> ColumnElement[bool]:
    return and_(Outcome.kind == OutcomeKind.ACTION, Outcome.done_at.is_(None))


def overdue_clause(today: date) -> ColumnElement[bool]:
    """Open action items due before ``today`` (the reader's local date)."""
    return and_(open_action_clause(), Outcome.due_date < today)


def is_overdue(outcome: Outcome, today: date) -> bool:
    return (
        outcome.kind == OutcomeKind.ACTION
        and outcome.done_at is None
        and outcome.due_date is not None
        and outcome.due_date < today
    )


def is_outcome_free(meeting: Meeting) -> bool:
    """The Python twin of ``outcome_free_clause`` for a meeting loaded with its outcomes."""
    return (
        meeting.ended_at is not None
        and meeting.no_outcome_reason is None
        and not (meeting.outcomes)
    )


# --- meetings ------------------------------------------------------------------------------


async def _open_meeting(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, lock: bool = False
) -> Meeting | None:
    query = (
        select(Meeting)
        .where(
            Meeting.in_workspace(ws), Meeting.channel_id == channel_id, Meeting.ended_at.is_(None)
        )
        .options(selectinload(Meeting.outcomes))
    )
    if lock:
        # A second `/meeting end` racing this one waits, then finds nothing open.
        query = query.with_for_update()
    return await session.scalar(query)


async def open_meeting(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str
) -> Meeting | None:
    """The meeting running in ``channel_id`` now (loaded with its outcomes), if any."""
    return await _open_meeting(session, ws=ws, channel_id=channel_id)


def _already_open(meeting: Meeting) -> Conflict:
    return Conflict(code="meeting.already_open", ref=meeting.ref)


async def start_meeting(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    title: str,
    organizer_id: str,
    channel_id: str,
    now: datetime,
    direct: bool = False,
) -> Meeting:
    """Start a meeting in ``channel_id``; ``direct`` when that is a DM or group DM."""
    title = require_text(title, what="meeting title", limit=TITLE_MAX, single_line=True)
    current = await _open_meeting(session, ws=ws, channel_id=channel_id)
    if current is not None:
        raise _already_open(current)
    meeting = await _new_meeting(
        session,
        ws=ws,
        title=title,
        organizer_id=organizer_id,
        channel_id=channel_id,
        now=now,
        ended_at=None,
    )
    meeting.direct = direct
    try:
        # A savepoint, so that losing a race leaves the session usable to name the winner.
        async with session.begin_nested():
            session.add(meeting)
    except IntegrityError:
        winner = await _open_meeting(session, ws=ws, channel_id=channel_id)
        if winner is None:
            raise
        raise _already_open(winner) from None
    return meeting


async def log_meeting(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    title: str,
    organizer_id: str,
    channel_id: str,
    now: datetime,
    held_at: datetime | None = None,
    direct: bool = False,
) -> Meeting:
    """Record a meeting that already happened, at ``held_at`` (default: now).

    ``direct`` when ``channel_id`` is a DM or group DM. It owes its outcomes straight away.
    A moment after ``now`` is refused: it has not happened.
    """
    title = require_text(title, what="meeting title", limit=TITLE_MAX, single_line=True)
    held = now if held_at is None else held_at
    if held > now:
        raise InvalidInput(code="meeting.log_in_future")
    meeting = await _new_meeting(
        session,
        ws=ws,
        title=title,
        organizer_id=organizer_id,
        channel_id=channel_id,
        now=held,
        ended_at=held,
    )
    meeting.created_at = now
    meeting.direct = direct
    session.add(meeting)
    await session.flush()
    return meeting


async def _new_meeting(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    title: str,
    organizer_id: str,
    channel_id: str,
    now: datetime,
    ended_at: datetime | None,
) -> Meeting:
    number = await next_number(session, ws=ws, series="meeting")
    return Meeting(
        **Meeting.key_values(ws),
        number=number,
        title=title,
        organizer_id=organizer_id,
        channel_id=channel_id,
        started_at=now,
        ended_at=ended_at,
        created_at=now,
        outcomes=[],
    )


async def end_meeting(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, now: datetime
) -> Meeting:
    """End the channel's open meeting; anyone in the channel may, as anyone may start one."""
    meeting = await _open_meeting(session, ws=ws, channel_id=channel_id, lock=True)
    if meeting is None:
        raise Conflict(code="meeting.none_open")
    meeting.ended_at = now
    return meeting


async def get_meeting(
    session: AsyncSession, *, ws: WorkspaceKey, number: int, visible: Visibility | None = None
) -> Meeting:
    """M-``number``; with ``visible``, only if its reader may see it (else the same NotFound)."""
    query = select(Meeting).where(Meeting.in_workspace(ws), Meeting.number == number)
    if visible is not None:
        query = query.where(visible_meeting_clause(visible))
    found = await session.scalar(query.options(selectinload(Meeting.outcomes)))
    if found is None:
        raise meeting_not_found(number)
    return found


def meeting_not_found(number: int) -> NotFound:
    """The one answer for a meeting that is missing, in another workspace, or not the asker's
    to see: all three look alike, so a private channel's meetings do not leak."""
    return NotFound(code="meeting.not_found", number=number)


async def meeting_for_outcome(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    channel_id: str,
    number: int | None,
    visible: Visibility | None = None,
) -> Meeting:
    """The meeting ``/outcome`` adds to: the one named, else the channel's open or latest one."""
    if number is not None:
        return await get_meeting(session, ws=ws, number=number, visible=visible)
    found = await _open_meeting(session, ws=ws, channel_id=channel_id)
    if found is None:
        found = await session.scalar(
            select(Meeting)
            .where(Meeting.in_workspace(ws), Meeting.channel_id == channel_id)
            .order_by(Meeting.number.desc())
            .limit(1)
            .options(selectinload(Meeting.outcomes))
        )
    if found is None:
        raise NotFound(code="outcome.no_meeting_here")
    return found


@dataclass(frozen=True, slots=True)
class MeetingRow:
    meeting: Meeting
    outcome_count: int


async def list_meetings(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, limit: int = LIST_LIMIT
) -> list[MeetingRow]:
    """The channel's most recent meetings, newest first, with how many outcomes each has."""
    counts = (
        select(Outcome.meeting_id, func.count().label("n"))
        .where(Outcome.in_workspace(ws))
        .group_by(Outcome.meeting_id)
        .subquery()
    )
    rows = await session.execute(
        select(Meeting, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.meeting_id == Meeting.id)
        .where(Meeting.in_workspace(ws), Meeting.channel_id == channel_id)
        .order_by(Meeting.number.desc())
        .limit(limit)
    )
    return [MeetingRow(meeting=m, outcome_count=int(n)) for m, n in rows.all()]


async def recent_meetings(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, limit: int = LIST_LIMIT
) -> list[Meeting]:
    """The channel's open meeting first (if any), then the latest ones: what a picker offers."""
    found = await session.scalars(
        select(Meeting)
        .where(Meeting.in_workspace(ws), Meeting.channel_id == channel_id)
        .order_by(Meeting.ended_at.is_not(None), Meeting.number.desc())
        .limit(limit)
    )
    return list(found.all())


async def linked_decisions(
    session: AsyncSession, *, ws: WorkspaceKey, meetings: Sequence[Meeting]
) -> dict[int, Decision]:
    """The decisions that are outcomes of ``meetings``, by id, so summaries show their state."""
    ids = {o.decision_id for m in meetings for o in m.outcomes if o.decision_id is not None}
    if not ids:
        return {}
    found = await session.scalars(
        select(Decision).where(Decision.in_workspace(ws), Decision.id.in_(ids))
    )
    return {d.id: d for d in found.all()}


def ensure_may_waive(meeting: Meeting, actor: Actor) -> None:
    """Raise unless ``actor`` may say ``meeting`` needed no outcome (checked before the modal).

    Only its organizer or an admin may: it waives the meeting's accountability.
    """
    if not (actor.is_admin or actor.user_id == meeting.organizer_id):
        raise Forbidden(
            code="meeting.may_not_waive", ref=meeting.ref, organizer=meeting.organizer_id
        )
    if meeting.ended_at is None:
        raise Conflict(code="meeting.waive_while_open", ref=meeting.ref)
    if meeting.outcomes:
        raise Conflict(
            code="meeting.waive_with_outcomes", ref=meeting.ref, count=len(meeting.outcomes)
        )
    if meeting.no_outcome_reason is not None:
        raise Conflict(code="meeting.already_waived", ref=meeting.ref)


async def record_no_outcome(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    reason: str,
    now: datetime,
) -> Meeting:
    """Record why an ended meeting needed no outcome: it stops owing one and no nudge follows."""
    meeting = await get_meeting(session, ws=ws, number=number)
    ensure_may_waive(meeting, actor)
    cleaned = require_text(reason, what="reason", limit=REASON_MAX)
    if "\n" in cleaned:
        raise InvalidInput(code="meeting.reason_one_line")
    meeting.no_outcome_reason = cleaned
    meeting.no_outcome_by = actor.user_id
    meeting.no_outcome_at = now
    return meeting


async def remember_meeting_message(
    session: AsyncSession, *, ws: WorkspaceKey, number: int, channel_id: str, ts: str
) -> None:
    """Keep the channel message that summarises a meeting, so later outcomes update it."""
    meeting = await get_meeting(session, ws=ws, number=number)
    meeting.message_channel_id = channel_id
    meeting.message_ts = ts


# --- outcomes ------------------------------------------------------------------------------


def check_draft(draft: OutcomeDraft) -> OutcomeDraft:
    """The draft with its text trimmed, or ``InvalidInput`` saying what is wrong with it."""
    return OutcomeDraft(
        text=require_text(draft.text, what="outcome text", limit=TEXT_MAX),
        owner_id=draft.owner_id,
        due_date=draft.due_date,
    )


async def add_outcomes(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    meeting: Meeting,
    drafts: Sequence[OutcomeDraft],
    creator_id: str,
    now: datetime,
    source_permalink: str | None = None,
) -> list[Outcome]:
    """Add every draft to ``meeting`` (loaded with its outcomes), or none if one is invalid.

    An action with a date but no owner belongs to whoever recorded it: an action item that is
    nobody's never gets done, and nobody would be reminded of it.
    """
    if not drafts:
        raise InvalidInput(code="outcome.none_written")
    checked = [check_draft(d) for d in drafts]
    added: list[Outcome] = []
    for draft in checked:
        outcome = await _new_outcome(
            session,
            ws=ws,
            draft=draft,
            creator_id=creator_id,
            now=now,
            source_permalink=source_permalink,
        )
        meeting.outcomes.append(outcome)
        added.append(outcome)
    await session.flush()
    await _tell_owners(session, ws=ws, added=added, creator_id=creator_id, now=now)
    return added


async def add_decision_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    decision: Decision,
    draft: OutcomeDraft,
    creator_id: str,
    now: datetime,
) -> Outcome:
    """A follow-through action of ``decision`` that belongs to no meeting (issue 17).

    It is numbered ``A-<n>`` like every action item and lives in the decision's conversation
    (``Outcome.channel_id``); no meeting gains an outcome from it. The owner defaults to the
    creator, as for any action.
    """
    checked = check_draft(draft)
    outcome = await _new_outcome(
        session,
        ws=ws,
        draft=OutcomeDraft(
            text=checked.text, owner_id=checked.owner_id or creator_id, due_date=checked.due_date
        ),
        creator_id=creator_id,
        now=now,
        source_permalink=None,
    )
    outcome.decision_id = decision.id
    session.add(outcome)
    await session.flush()
    # Known without a query: where it lives comes from these two.
    set_committed_value(outcome, "meeting", None)
    set_committed_value(outcome, "decision", decision)
    await _tell_owners(session, ws=ws, added=[outcome], creator_id=creator_id, now=now)
    return outcome


async def _new_outcome(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    draft: OutcomeDraft,
    creator_id: str,
    now: datetime,
    source_permalink: str | None,
) -> Outcome:
    number = await next_number(session, ws=ws, series="action") if draft.is_action else None
    return Outcome(
        **Outcome.key_values(ws),
        number=number,
        kind=OutcomeKind.ACTION if draft.is_action else OutcomeKind.NOTE,
        text=draft.text,
        owner_id=(draft.owner_id or creator_id) if draft.is_action else None,
        due_date=draft.due_date,
        creator_id=creator_id,
        created_at=now,
        updated_at=now,
        source_permalink=source_permalink,
    )


async def _tell_owners(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    added: Sequence[Outcome],
    creator_id: str,
    now: datetime,
) -> None:
    # An action item given to someone else is news for them.
    await notices.plan(
        session,
        [
            notices.owner_notice(
                ws=ws,
                kind=notices.NoticeKind.ACTION_OWNER,
                ref=outcome.ref,
                number=outcome.number,
                owner_id=outcome.owner_id,
                actor_id=creator_id,
                now=now,
                created=True,
            )
            for outcome in added
            if outcome.ref is not None and outcome.number is not None
        ],
    )


async def add_outcome(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    meeting: Meeting,
    draft: OutcomeDraft,
    creator_id: str,
    now: datetime,
    source_permalink: str | None = None,
) -> Outcome:
    (outcome,) = await add_outcomes(
        session,
        ws=ws,
        meeting=meeting,
        drafts=[draft],
        creator_id=creator_id,
        now=now,
        source_permalink=source_permalink,
    )
    return outcome


async def get_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    lock: bool = False,
    visible: Visibility | None = None,
) -> Outcome:
    """A-``number``; with ``visible``, only if its reader may see it (else the same NotFound)."""
    query = (
        select(Outcome)
        .where(Outcome.in_workspace(ws), Outcome.number == number)
        .options(*place.load(meeting_outcomes=True))
    )
    if visible is not None:
        query = query.select_from(place.SOURCE).where(visible_outcome_clause(visible))
    if lock:
        query = query.with_for_update(of=Outcome)
    found = await session.scalar(query)
    if found is None:
        raise NotFound(code="action.not_found", number=number)
    return found


def ensure_may_change_action(outcome: Outcome, actor: Actor) -> None:
    if actor.is_admin or actor.user_id in (outcome.owner_id, outcome.creator_id):
        return
    raise Forbidden(
        code="action.may_not_change",
        ref=outcome.ref,
        owner=outcome.owner_id,
        creator=outcome.creator_id,
    )


async def mark_action_done(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    now: datetime,
    visible: Visibility | None = None,
) -> Outcome:
    outcome = await get_action(session, ws=ws, number=number, lock=True, visible=visible)
    ensure_may_change_action(outcome, actor)
    if outcome.done_at is not None:
        raise Conflict(code="action.already_done", ref=outcome.ref, by=outcome.done_by)
    outcome.done_at = now
    outcome.done_by = actor.user_id
    outcome.updated_at = now
    return outcome


async def remember_outcome_message(
    session: AsyncSession, *, ws: WorkspaceKey, outcome_id: int, channel_id: str, ts: str
) -> None:
    """Keep the channel message that shows an outcome, so marking it done updates it."""
    outcome = await session.scalar(
        select(Outcome).where(Outcome.in_workspace(ws), Outcome.id == outcome_id)
    )
    if outcome is None:
        raise NotFound(code="outcome.gone")
    outcome.message_channel_id = channel_id
    outcome.message_ts = ts


# --- App Home -------------------------------------------------------------------------------


def visible_meeting_clause(visible: Visibility) -> ColumnElement[bool]:
    """Meetings ``visible.reader`` may see: a readable conversation's, or one they organized."""
    return visible.clause(Meeting.channel_id, Meeting.organizer_id)


def visible_outcome_clause(visible: Visibility) -> ColumnElement[bool]:
    """Outcomes in a conversation the reader may see (their meeting's, else their decision's),
    or ones they own or recorded; select from ``place.SOURCE``."""
    return visible.clause(place.CHANNEL, Outcome.owner_id, Outcome.creator_id)


async def open_actions_of(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    owner_id: str,
    visible: Visibility,
    limit: int = HOME_LIMIT,
    offset: int = 0,
) -> Page[Outcome]:
    """Open action items owned by ``owner_id`` that ``visible`` allows, soonest due first."""
    query = (
        select(Outcome)
        .select_from(place.SOURCE)
        .where(
            Outcome.in_workspace(ws),
            open_action_clause(),
            Outcome.owner_id == owner_id,
            visible_outcome_clause(visible),
        )
        .options(*place.load(meeting_outcomes=True))
        .order_by(Outcome.due_date.is_(None), Outcome.due_date, Outcome.number)
    )
    return await page_of(session, query, limit=limit, offset=offset)


async def meetings_owing_outcomes(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    organizer_id: str,
    visible: Visibility,
    limit: int = HOME_LIMIT,
    offset: int = 0,
) -> Page[Meeting]:
    """Outcome-free meetings ``organizer_id`` ran that ``visible`` allows, most recent first."""
    query = (
        select(Meeting)
        .where(Meeting.in_workspace(ws), Meeting.organizer_id == organizer_id)
        .where(outcome_free_clause(), visible_meeting_clause(visible))
        .options(selectinload(Meeting.outcomes))
        .order_by(Meeting.ended_at.desc(), Meeting.number.desc())
    )
    return await page_of(session, query, limit=limit, offset=offset)


async def channels_of_home_items(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str
) -> set[str]:
    """Channels holding the user's open actions or owed meetings: what App Home must vet."""
    actions = (
        select(place.CHANNEL)
        .select_from(place.SOURCE)
        .where(Outcome.in_workspace(ws), open_action_clause(), Outcome.owner_id == user_id)
    )
    owed = select(Meeting.channel_id).where(
        Meeting.in_workspace(ws), Meeting.organizer_id == user_id, outcome_free_clause()
    )
    found = await session.scalars(actions.union(owed))
    return set(found.all())


# --- meetings from other sources (calendar feeds) --------------------------------------------

#: A `/meeting start` this long before an event's start still counts as that event's meeting.
EARLY_START = timedelta(minutes=15)


def held_meeting(
    *,
    ws: WorkspaceKey,
    title: str,
    organizer_id: str,
    channel_id: str,
    started_at: datetime,
    ended_at: datetime,
    now: datetime,
) -> Meeting:
    """A meeting that happened from ``started_at`` to ``ended_at`` (a calendar event that
    ended), not yet numbered: `number_and_add` gives it its M-<n>, and from then on it owes its
    outcomes like one ended with `/meeting end`."""
    return Meeting(
        **Meeting.key_values(ws),
        number=0,
        title=title[:TITLE_MAX] or "Calendar event",
        organizer_id=organizer_id,
        channel_id=channel_id,
        started_at=started_at,
        ended_at=ended_at,
        created_at=now,
        outcomes=[],
    )


async def number_and_add(
    session: AsyncSession, *, ws: WorkspaceKey, made: Sequence[Meeting]
) -> None:
    """Number ``made`` in order with one bump of the counter and insert them in one batch."""
    first = await next_numbers(session, ws=ws, series="meeting", count=len(made))
    for offset, meeting in enumerate(made):
        meeting.number = first + offset
    session.add_all(made)
    await session.flush()
