"""Working-hours arithmetic: when a person is at work and how many working days have gone by.

Everything is reckoned on the local wall clock of a time zone and handed back as aware UTC
datetimes, so the planner can compare moments without caring about daylight saving. A wall-clock
time is turned into a moment by one rule (`local_moment`): the first instant at which the clock
reads that time or later. That settles both daylight-saving edge cases: a time skipped by a
spring-forward jump becomes the instant of the jump, and a time repeated by a fall-back counts
from its first occurrence. Counting working days is the working calendar's
(`bot.cadence.calendar`); the functions here take a zone and working hours and build it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.cadence.calendar import WorkingCalendar, local_moment
from bot.cadence.config import Weekday, WorkingHours, weekday_number

__all__ = [
    "add_working_days",
    "calendar_for",
    "is_working_time",
    "last_weekly_moment",
    "local_moment",
    "next_working_moment",
    "week_bounds",
    "working_days_between",
]

# No zone ever went a year without a day that has wall-clock time; this only guards the loop.
_SEARCH_LIMIT_DAYS = 400


def is_working_time(at: datetime, zone: ZoneInfo, hours: WorkingHours) -> bool:
    """Whether ``at`` falls inside one of the working windows in ``zone``."""
    moment = _utc(at)
    local_day = moment.astimezone(zone).date()
    # Neighbouring days too: a clock set back across midnight puts part of one day's window on
    # instants whose local date is the day before. Cheap insurance against odd zone rules.
    for offset in (-1, 0, 1):
        window = _window(local_day + timedelta(days=offset), zone, hours)
        if window and window[0] <= moment < window[1]:
            return True
    return False


def next_working_moment(at: datetime, zone: ZoneInfo, hours: WorkingHours) -> datetime:
    """``at`` (in UTC) when it is working time, else the start of the next working window."""
    moment = _utc(at)
    first_day = moment.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_SEARCH_LIMIT_DAYS):
        window = _window(first_day + timedelta(days=offset), zone, hours)
        if window is None or window[1] <= moment:
            continue
        return max(window[0], moment)
    raise ValueError(f"no working time within {_SEARCH_LIMIT_DAYS} days in {zone.key}")


def add_working_days(at: datetime, n: int, zone: ZoneInfo, hours: WorkingHours) -> datetime:
    """The same local wall-clock time as ``at`` on the n-th working day after ``at``'s day.

    See `WorkingCalendar.add_working_days`: from a non-working day counting starts at 00:00
    of the next working day, and the result never decreases as ``at`` grows.
    """
    return _calendar(zone, hours).add_working_days(at, n)


def working_days_between(
    start: datetime, end: datetime, zone: ZoneInfo, hours: WorkingHours
) -> int:
    """How many working days have fully elapsed from ``start`` to ``end``.

    The exact inverse of `add_working_days` (see `WorkingCalendar.working_days_between`).
    """
    return _calendar(zone, hours).working_days_between(start, end)


def week_bounds(
    day: date, zone: ZoneInfo, week_start: Weekday = "mon"
) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local week that contains ``day``, from midnight to midnight."""
    first = day - timedelta(days=(day.weekday() - weekday_number(week_start)) % 7)
    return (
        local_moment(first, time(0), zone),
        local_moment(first + timedelta(days=7), time(0), zone),
    )


def last_weekly_moment(now: datetime, zone: ZoneInfo, day: Weekday, at: time) -> datetime:
    """The latest weekly ``day`` ``at`` (local) at or before ``now``, in UTC.

    The digest planner keys a week's send on this moment, so a tick that runs late still sends
    that week's digest exactly once.
    """
    moment = _utc(now)
    today = moment.astimezone(zone).date()
    candidate = today - timedelta(days=(today.weekday() - weekday_number(day)) % 7)
    while local_moment(candidate, at, zone) > moment:
        candidate -= timedelta(days=7)
    while local_moment(candidate + timedelta(days=7), at, zone) <= moment:
        candidate += timedelta(days=7)
    return local_moment(candidate, at, zone)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def calendar_for(zone: ZoneInfo, hours: WorkingHours) -> WorkingCalendar:
    """The working calendar of ``hours`` in ``zone``, built once and then reused (it is
    immutable, and it remembers the day arithmetic it has done)."""
    key = (zone, tuple(hours.days), tuple(hours.holidays))
    found = _CALENDARS.get(key)
    if found is None:
        if len(_CALENDARS) >= _CALENDARS_MAX:
            _CALENDARS.clear()
        found = _CALENDARS[key] = WorkingCalendar(
            zone=zone, weekdays=hours.weekday_numbers, days_off=hours.days_off
        )
    return found


# Calendars kept (one per zone, working days and holidays: a person's away days make theirs).
_CALENDARS_MAX = 4096
_CALENDARS: dict[tuple[object, ...], WorkingCalendar] = {}


def _calendar(zone: ZoneInfo, hours: WorkingHours) -> WorkingCalendar:
    return calendar_for(zone, hours)


def _window(day: date, zone: ZoneInfo, hours: WorkingHours) -> tuple[datetime, datetime] | None:
    if day.weekday() not in hours.weekday_numbers or day in hours.days_off:
        return None
    start = local_moment(day, hours.start, zone)
    end = local_moment(day, hours.end, zone)
    # A window lying wholly inside a spring-forward gap has no wall-clock time that day.
    return (start, end) if start < end else None
