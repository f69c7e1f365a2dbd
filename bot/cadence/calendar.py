"""The working calendar: which local days are working days, and how the local clock maps to time.

A `WorkingCalendar` is a time zone, the weekdays that are working days and a set of dates that
are not working days whatever their weekday (holidays and, for one person, away days). Every
count of working days in the app goes through it, so adding holidays changes the value passed
in, never the arithmetic.

Two facts about wall clocks make the arithmetic exact across daylight-saving changes:

- `local_moment`: a wall-clock reading becomes the first instant at which the clock reads it or
  later. A reading skipped by a spring-forward jump becomes the instant of the jump; a repeated
  reading counts from its first occurrence.
- `WorkingCalendar.clock_reached`: the latest reading the clock has shown by an instant. It is
  the reading itself except during the second pass of a repeated stretch (after a fall-back),
  where the clock has already shown every reading of that stretch once: there it is the last
  reading before the clock was set back. Unlike the plain reading it never goes backwards, and
  ``local_moment(w) <= at`` holds exactly when ``w <= clock_reached(at)``.

Instants are compared at microsecond resolution, which is what datetimes and both databases
store, so "the latest instant before X" is ``X - 1 µs`` exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MICROSECOND = timedelta(microseconds=1)
# Remembered answers per calendar, at most (then forgotten and worked out again).
_MEMO_MAX = 100_000


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days in one time zone: ``weekdays`` (Monday 0 … Sunday 6) minus ``days_off``."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    days_off: frozenset[date] = frozenset()
    # The days off that fall on working weekdays, sorted: the only ones that change a count.
    _off: tuple[date, ...] = field(init=False, repr=False, compare=False)
    # Answers about days already worked out (the calendar never changes): a planning tick asks
    # the same few hundred days again for every one of thousands of items.
    _memo: dict[tuple[Any, ...], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("a working calendar needs at least one weekday, numbered 0 to 6")
        off = tuple(sorted(d for d in self.days_off if d.weekday() in self.weekdays))
        object.__setattr__(self, "_off", off)
        object.__setattr__(self, "_memo", {})

    def _remember(self, key: tuple[Any, ...], value: Any) -> Any:
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[key] = value
        return value

    @classmethod
    def of(
        cls, zone: ZoneInfo, weekdays: Iterable[int], days_off: Iterable[date] = ()
    ) -> WorkingCalendar:
        return cls(zone=zone, weekdays=frozenset(weekdays), days_off=frozenset(days_off))

    # --- days ------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.days_off

    def working_days_in(self, after: date, through: date) -> int:
        """How many working days lie in (after, through]."""
        if through <= after:
            return 0
        key = ("in", after, through)
        found = self._memo.get(key)
        if found is None:
            found = self._remember(
                key, _weekdays_in(after, through, self.weekdays) - self._off_in(after, through)
            )
        return int(found)

    def working_day_after(self, day: date, n: int = 1) -> date:
        """The n-th (n >= 1) working day after ``day``."""
        if n < 1:
            raise ValueError("n must be at least 1")
        key = ("after", day, n)
        found = self._memo.get(key)
        if found is None:
            found = self._remember(key, self._working_day_after(day, n))
        return found  # type: ignore[no-any-return]

    def _working_day_after(self, day: date, n: int) -> date:
        # Count weekdays first, then step over the days off that fell in the span, as often as
        # new days off come into the lengthened span (each round only looks at the new part).
        found = _nth_weekday_after(day, n, self.weekdays)
        skipped = self._off_in(day, found)
        while skipped:
            previous = found
            found = _nth_weekday_after(previous, skipped, self.weekdays)
            skipped = self._off_in(previous, found)
        return found

    def working_day_before(self, day: date, n: int = 1) -> date:
        """The n-th (n >= 1) working day before ``day``."""
        if n < 1:
            raise ValueError("n must be at least 1")
        key = ("before", day, n)
        found = self._memo.get(key)
        if found is None:
            found = self._remember(key, self._working_day_before(day, n))
        return found  # type: ignore[no-any-return]

    def _working_day_before(self, day: date, n: int) -> date:
        found = _nth_weekday_before(day, n, self.weekdays)
        skipped = self._off_in(found - timedelta(days=1), day - timedelta(days=1))
        while skipped:
            previous = found
            found = _nth_weekday_before(previous, skipped, self.weekdays)
            skipped = self._off_in(found - timedelta(days=1), previous - timedelta(days=1))
        return found

    def _off_in(self, after: date, through: date) -> int:
        """How many days off on working weekdays lie in (after, through]."""
        return bisect.bisect_right(self._off, through) - bisect.bisect_right(self._off, after)

    # --- the clock ---------------------------------------------------------------------------

    def moment(self, wall: datetime) -> datetime:
        """The first instant (UTC) at which the clock reads the naive ``wall`` or later."""
        return local_moment(wall.date(), wall.time(), self.zone)

    def clock_reached(self, at: datetime) -> datetime:
        """The latest wall-clock reading (naive) the zone's clock has shown by ``at``."""
        return clock_reached(at, self.zone)

    def today(self, at: datetime) -> date:
        """The local day it is at ``at`` (the latest day the clock has shown)."""
        return self.clock_reached(at).date()

    # --- counting working days from an instant -------------------------------------------------

    def counting_origin(self, at: datetime) -> tuple[date, time]:
        """The working day and clock reading that counting working days from ``at`` starts at.

        On a working day, ``at``'s own day and reading; on any other day, 00:00 of the next
        working day (time on a day off does not count).
        """
        reading = self.clock_reached(at)
        if self.is_working_day(reading.date()):
            return reading.date(), reading.time()
        return self.working_day_after(reading.date()), time(0)

    def add_working_days(self, at: datetime, n: int) -> datetime:
        """When the clock reads ``at``'s reading on the n-th working day after ``at``'s day.

        From a non-working day, counting starts at 00:00 of the next working day: from a
        Saturday (Mon–Fri), one working day later is Tuesday 00:00. Non-decreasing in ``at``,
        even through a repeated hour, because the readings of `clock_reached` never go back.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return _utc(at)
        day, clock = self.counting_origin(at)
        return self.moment(datetime.combine(self.working_day_after(day, n), clock))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """How many working days have fully elapsed from ``start`` to ``end``.

        The exact inverse of `add_working_days`: the largest n with
        ``add_working_days(start, n) <= end`` (zero when ``end`` is not later than ``start``).
        """
        if _utc(end) <= _utc(start):
            return 0
        day, clock = self.counting_origin(start)
        reached = self.clock_reached(end)
        count = self.working_days_in(day, reached.date())
        if count and self.is_working_day(reached.date()) and reached.time() < clock:
            count -= 1  # on the last of them the clock has not reached `clock` yet
        return count


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the wall clock in ``zone`` reads ``day`` ``at`` or later."""
    wall = datetime.combine(day, at.replace(tzinfo=None))
    # fold=0 picks the first of two readings of a repeated time, and for a skipped time applies
    # the offset from before the jump, which lands at or after the jump.
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if after.astimezone(zone).replace(tzinfo=None) == wall:
        return after
    # Skipped: fold=1 applies the offset from after the jump, which lands before it. The jump
    # lies between the two, and it is the first instant whose reading is `wall` or later.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return offset_change(zone, min(before, after), max(before, after))


def clock_reached(at: datetime, zone: ZoneInfo) -> datetime:
    """The latest wall-clock reading (naive) the clock in ``zone`` has shown by ``at``."""
    local = _utc(at).astimezone(zone)
    first_pass = local.replace(fold=0)
    if local.fold == 0 or first_pass.utcoffset() == local.utcoffset():
        return local.replace(tzinfo=None)
    # The second pass of a repeated stretch: the clock was set back at `back`, and just before
    # that it showed the latest reading so far.
    shift = first_pass.utcoffset() - local.utcoffset()  # type: ignore[operator]
    back = offset_change(zone, _utc(at) - shift, _utc(at))
    return (back - MICROSECOND).astimezone(zone).replace(tzinfo=None)


def offset_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The instant in (low, high] from which ``zone`` has the UTC offset it has at ``high``.

    For two instants at most one offset change apart (the two sides of one daylight-saving
    jump). `zoneinfo` keeps each zone's list of transitions to itself, so the change is pinned
    by halving the interval down to one microsecond, a datetime's resolution: the answer is
    the exact transition, not an approximation of it. This looks up a fact about the zone; no
    rule of the app is searched for.
    """
    target = high.astimezone(zone).utcoffset()
    while high - low > MICROSECOND:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _weekdays_in(after: date, through: date, weekdays: frozenset[int]) -> int:
    """How many dates in (after, through] have a weekday in ``weekdays``."""
    span = (through - after).days
    if span <= 0:
        return 0
    weeks, rest = divmod(span, 7)
    first = after.weekday()
    tail = sum((first + i) % 7 in weekdays for i in range(1, rest + 1))
    return weeks * len(weekdays) + tail


def _nth_weekday_after(origin: date, n: int, weekdays: frozenset[int]) -> date:
    """The n-th (n >= 1) date after ``origin`` whose weekday is in ``weekdays``."""
    # Each whole week holds exactly len(weekdays) of them; walk at most the last week.
    weeks, rest = divmod(n - 1, len(weekdays))
    current = origin + timedelta(weeks=weeks)
    found = 0
    while True:
        current += timedelta(days=1)
        if current.weekday() in weekdays:
            found += 1
            if found == rest + 1:
                return current


def _nth_weekday_before(origin: date, n: int, weekdays: frozenset[int]) -> date:
    """The n-th (n >= 1) date before ``origin`` whose weekday is in ``weekdays``."""
    weeks, rest = divmod(n - 1, len(weekdays))
    current = origin - timedelta(weeks=weeks)
    found = 0
    while True:
        current -= timedelta(days=1)
        if current.weekday() in weekdays:
            found += 1
            if found == rest + 1:
                return current
