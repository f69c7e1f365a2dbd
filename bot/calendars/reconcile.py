"""Occurrences read from a feed → expected meetings → meetings (M-<n>) that owe outcomes.

`sync_feed` makes the stored occurrences of a feed match what it says now, inside the window
it was read for: new ones are added, moved or edited ones updated (and the meeting the calendar
made for them with them), vanished or cancelled ones that made no meeting yet are dropped.
`materialize` turns every occurrence that has ended into a meeting — the one somebody started
with `/meeting start` in that channel during the event if there is one, else a new M-<n>.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendars.ical import Occurrence
from bot.calendars.models import CalendarOccurrence
from bot.meetings import service as meetings
from bot.meetings.models import Meeting
from bot.workspace import WorkspaceKey


async def sync_feed(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    feed_id: int,
    channel_id: str,
    found: Sequence[Occurrence],
    organizers: dict[str, str | None],
    start: datetime,
    end: datetime,
    now: datetime,
) -> int:
    """Store what the feed says about [start, end); returns how many occurrences it holds."""
    stored = {
        (row.uid, row.recurrence_key): row
        for row in await session.scalars(
            select(CalendarOccurrence).where(
                CalendarOccurrence.in_workspace(ws),
                CalendarOccurrence.feed_id == feed_id,
                CalendarOccurrence.ends_at > start,
                CalendarOccurrence.starts_at < end,
            )
        )
    }
    made: dict[int, CalendarOccurrence] = {}
    for occurrence in found:
        organizer_id = organizers.get(occurrence.organizer_email or "")
        row = stored.pop(occurrence.key, None)
        if row is None:
            session.add(
                CalendarOccurrence(
                    **CalendarOccurrence.key_values(ws),
                    feed_id=feed_id,
                    channel_id=channel_id,
                    uid=occurrence.uid,
                    recurrence_key=occurrence.recurrence_key,
                    title=occurrence.title,
                    starts_at=occurrence.starts_at,
                    ends_at=occurrence.ends_at,
                    attendees=occurrence.attendees,
                    organizer_email=occurrence.organizer_email,
                    organizer_id=organizer_id,
                    made_meeting=False,
                    updated_at=now,
                )
            )
            continue
        changed = (
            row.title != occurrence.title
            or row.starts_at != occurrence.starts_at
            or row.ends_at != occurrence.ends_at
            or row.attendees != occurrence.attendees
            or row.organizer_email != occurrence.organizer_email
            or row.organizer_id != organizer_id
        )
        if not changed:
            continue
        row.title = occurrence.title
        row.starts_at = occurrence.starts_at
        row.ends_at = occurrence.ends_at
        row.attendees = occurrence.attendees
        row.organizer_email = occurrence.organizer_email
        row.organizer_id = organizer_id
        row.updated_at = now
        if row.meeting_id is not None and row.made_meeting:
            made[row.meeting_id] = row
    if made:
        # A moved or edited event moves its meeting too (only one the calendar made, and only
        # to a time that has ended: a meeting does not end in the future).
        for meeting in await session.scalars(
            select(Meeting).where(Meeting.in_workspace(ws), Meeting.id.in_(list(made)))
        ):
            row = made[meeting.id]
            if row.ends_at <= now:
                meeting.title = row.title
                meeting.started_at = row.starts_at
                meeting.ended_at = row.ends_at
                if row.organizer_id is not None:
                    meeting.organizer_id = row.organizer_id
    for row in stored.values():
        # Cancelled, deleted, declined by everyone, or no longer a meeting by the rules. One that
        # already became a meeting stays: that meeting happened.
        if row.meeting_id is None:
            await session.delete(row)
    return len(found)


async def materialize(session: AsyncSession, *, ws: WorkspaceKey, now: datetime) -> int:
    """Give every ended occurrence its meeting; returns how many new meetings were made.

    Done in a few statements whatever the number: the ended occurrences, the meetings started
    in their channels around their times, one bump of the meeting counter, one batch insert.
    """
    due = list(
        await session.scalars(
            select(CalendarOccurrence)
            .where(
                CalendarOccurrence.in_workspace(ws),
                CalendarOccurrence.meeting_id.is_(None),
                CalendarOccurrence.ends_at <= now,
            )
            .order_by(CalendarOccurrence.starts_at, CalendarOccurrence.id)
        )
    )
    if not due:
        return 0
    started: dict[str, list[tuple[datetime, Meeting]]] = {}
    for meeting in await session.scalars(
        select(Meeting).where(
            Meeting.in_workspace(ws),
            Meeting.channel_id.in_(sorted({row.channel_id for row in due})),
            Meeting.started_at >= min(row.starts_at for row in due) - meetings.EARLY_START,
            Meeting.started_at < max(row.ends_at for row in due),
        )
    ):
        started.setdefault(meeting.channel_id, []).append((meeting.started_at, meeting))
    new: list[tuple[CalendarOccurrence, Meeting]] = []
    for row in due:
        match = _started_during(started.get(row.channel_id, []), row)
        if match is not None:
            # `/meeting start` during the event, or the same event on another of the channel's
            # feeds: one meeting, not a second.
            row.meeting_id = match.id
            row.made_meeting = match.id is None
            if match.id is None:
                new.append((row, match))
            continue
        meeting = meetings.held_meeting(
            ws=ws,
            title=row.title,
            # Unmapped organizer: the channel is nudged instead.
            organizer_id=row.organizer_id or row.channel_id,
            channel_id=row.channel_id,
            started_at=row.starts_at,
            ended_at=row.ends_at,
            now=now,
        )
        started.setdefault(row.channel_id, []).append((row.starts_at, meeting))
        new.append((row, meeting))
    made = list({id(m): m for _, m in new}.values())
    if made:
        await meetings.number_and_add(session, ws=ws, made=made)
        for row, meeting in new:
            row.meeting_id = meeting.id
            row.made_meeting = True
    return len(made)


def _started_during(
    candidates: list[tuple[datetime, Meeting]], row: CalendarOccurrence
) -> Meeting | None:
    best: Meeting | None = None
    for started_at, meeting in candidates:
        if row.starts_at - meetings.EARLY_START <= started_at < row.ends_at and (
            best is None or started_at < best.started_at
        ):
            best = meeting
    return best
