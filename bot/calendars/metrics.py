"""Per channel: meetings on the calendar, meetings recorded by people, meetings with outcomes.

For a period [start, end), counting by the moment each meeting ended (as the digest does):

- *on the calendar*: calendar occurrences that count as meetings (docs/METRICS.md) and ended in
  the period; the same event on two of a channel's feeds counts once (they share a meeting);
- *recorded*: meetings someone recorded with `/meeting start` or `/meeting log`, whether or not
  the calendar had them too;
- *with outcomes*: meetings held in the period, from either source, with at least one outcome.

Only channels with something on the calendar in one of the two periods are listed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendars.models import CalendarOccurrence
from bot.meetings import service as meetings
from bot.meetings.models import Meeting
from bot.workspace import WorkspaceKey


@dataclass(frozen=True, slots=True)
class CalendarCounts:
    on_calendar: int = 0
    recorded: int = 0
    with_outcomes: int = 0


async def calendar_counts(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    start: datetime,
    end: datetime,
    channels: Collection[str],
) -> dict[str, CalendarCounts]:
    if not channels:
        return {}
    wanted = sorted(channels)
    occurrence = CalendarOccurrence
    on_calendar = dict(
        (
            await session.execute(
                select(
                    occurrence.channel_id,
                    func.count(func.distinct(func.coalesce(occurrence.meeting_id, -occurrence.id))),
                )
                .where(
                    occurrence.in_workspace(ws),
                    occurrence.channel_id.in_(wanted),
                    occurrence.ends_at >= start,
                    occurrence.ends_at < end,
                )
                .group_by(occurrence.channel_id)
            )
        ).all()
    )
    made_by_calendar = exists().where(
        and_(
            occurrence.meeting_id == Meeting.id,
            occurrence.made_meeting.is_(True),
            occurrence.in_workspace(ws),
        )
    )
    rows = (
        await session.execute(
            select(
                Meeting.channel_id,
                func.sum(case((~made_by_calendar, 1), else_=0)),
                func.sum(case((meetings.has_outcome(), 1), else_=0)),
            )
            .where(
                Meeting.in_workspace(ws),
                Meeting.channel_id.in_(wanted),
                Meeting.ended_at >= start,
                Meeting.ended_at < end,
            )
            .group_by(Meeting.channel_id)
        )
    ).all()
    held = {
        channel: (int(recorded or 0), int(outcomes or 0)) for channel, recorded, outcomes in rows
    }
    return {
        channel: CalendarCounts(
            on_calendar=int(count),
            recorded=held.get(channel, (0, 0))[0],
            with_outcomes=held.get(channel, (0, 0))[1],
        )
        for channel, count in on_calendar.items()
    } | {
        channel: CalendarCounts(recorded=recorded, with_outcomes=outcomes)
        for channel, (recorded, outcomes) in held.items()
        if channel not in on_calendar
    }


def calendar_channels(
    current: dict[str, CalendarCounts], previous: dict[str, CalendarCounts]
) -> list[tuple[str, CalendarCounts, CalendarCounts]]:
    """(channel, this period, the one before) for channels with calendar meetings in either,
    busiest first."""
    names = {c for c, n in current.items() if n.on_calendar} | {
        c for c, n in previous.items() if n.on_calendar
    }
    empty = CalendarCounts()
    rows = [(c, current.get(c, empty), previous.get(c, empty)) for c in names]
    return sorted(rows, key=lambda r: (-r[1].on_calendar, -r[2].on_calendar, r[0]))
