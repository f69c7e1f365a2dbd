"""Working-hours arithmetic: when a person is at work and how many working days have gone by.

Everything is reckoned on the local wall clock of a time zone and handed back as aware UTC
datetimes, so the planner can compare moments without caring about daylight saving. A wall-clock
time is turned into a moment by one rule (`local_moment`): the first instant at which the clock
reads that time or later. That settles both daylight-saving edge cases: a time skipped by a
spring-forward jump becomes the instant of the jump, and a time repeated by a fall-back counts
from its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.cadence.config import Weekday, WorkingHours, weekday_number

# No zone ever went a year without a day that has wall-clock time; this only guards the loop.
_SEARCH_LIMIT_DAYS = 400


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock in ``zone`` reads ``day`` ``at`` or later."""
    wall = datetime.combine(day, at.replace(tzinfo=None))
    # fold=0 picks the first of two readings of a repeated time, and for a skipped time applies
    # the offset from before the jump, which lands at or after the jump.
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if after.astimezone(zone).replace(tzinfo=None) == wall:
        return after
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # The clock reads less than `wall` at `before` and more at `after`; the jump lies between.
    low, high = min(before, after), max(before, after)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


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

    Time on a non-working day does not count: from a Saturday, counting starts at Monday 00:00,
    so one working day later is Tuesday 00:00. That keeps the result non-decreasing in ``at``
    (later activity never stalls sooner), which searches over it rely on.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    moment = _utc(at)
    if n == 0:
        return moment
    origin, clock = _origin(moment, zone, hours)
    return local_moment(_nth_working_date(origin, n, hours.weekday_numbers), clock, zone)


def working_days_between(
    start: datetime, end: datetime, zone: ZoneInfo, hours: WorkingHours
) -> int:
    """How many working days have fully elapsed from ``start`` to ``end``.

    The exact inverse of `add_working_days`: a working day after ``start``'s counts once ``end``
    reaches ``start``'s wall-clock time on it. Zero when ``end`` is not later than ``start``.
    """
    begin, finish = _utc(start), _utc(end)
    if finish <= begin:
        return 0
    origin, clock = _origin(begin, zone, hours)
    days = hours.weekday_numbers
    # Dates give a near-exact count; the wall-clock comparison settles the last day or two.
    count = _working_dates_in(origin, finish.astimezone(zone).date(), days)
    while count > 0 and local_moment(_nth_working_date(origin, count, days), clock, zone) > finish:
        count -= 1
    while local_moment(_nth_working_date(origin, count + 1, days), clock, zone) <= finish:
        count += 1
    return count


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


def _origin(moment: datetime, zone: ZoneInfo, hours: WorkingHours) -> tuple[date, time]:
    """The working day and wall-clock time that working-day counting starts from."""
    local = moment.astimezone(zone)
    if local.weekday() in hours.weekday_numbers:
        return local.date(), local.time()
    return _nth_working_date(local.date(), 1, hours.weekday_numbers), time(0)


def _window(day: date, zone: ZoneInfo, hours: WorkingHours) -> tuple[datetime, datetime] | None:
    if day.weekday() not in hours.weekday_numbers:
        return None
    start = local_moment(day, hours.start, zone)
    end = local_moment(day, hours.end, zone)
    # A window lying wholly inside a spring-forward gap has no wall-clock time that day.
    return (start, end) if start < end else None


def _nth_working_date(origin: date, n: int, days: frozenset[int]) -> date:
    """The n-th (n >= 1) date after ``origin`` whose weekday is in ``days``."""
    # Each whole week holds exactly len(days) working dates, so skip those before walking.
    weeks, rest = divmod(n - 1, len(days))
    current = origin + timedelta(weeks=weeks)
    found = 0
    while True:
        current += timedelta(days=1)
        if current.weekday() in days:
            found += 1
            if found == rest + 1:
                return current


def _working_dates_in(after: date, through: date, days: frozenset[int]) -> int:
    """How many dates in (after, through] have a weekday in ``days``."""
    span = (through - after).days
    if span <= 0:
        return 0
    weeks, rest = divmod(span, 7)
    tail_start = after + timedelta(weeks=weeks)
    tail = sum((tail_start + timedelta(days=i)).weekday() in days for i in range(1, rest + 1))
    return weeks * len(days) + tail
