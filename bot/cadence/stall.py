"""When a decision counts as stalled, as moments a SQL query or a Python check can compare against.

Pure calendar arithmetic: the same rule as SQL lives with the decisions (`bot.decisions.stall`).

"Stalled" at an instant ``end`` is: open, and past its due date (due before ``end``'s local day),
or, for a decision with no due date, idle since an activity that ``stall_after_days`` working
days have followed. A due date still to come is the team's own deadline: before it passes,
quiet is not stalling. "Followed by n
working days" is counted on the working calendar (`bot.cadence.calendar`), in days only:
working hours play no part. From activity at local day ``d`` and clock reading ``c``:

- on a working day, the decision stalls when the clock reads ``c`` on the n-th working day
  after ``d``;
- on a non-working day, counting starts at 00:00 of the next working day (so from a Saturday,
  one working day later is Tuesday 00:00: all of Monday has to pass).

The readings are those of `WorkingCalendar.clock_reached`, which never go backwards, so later
activity never stalls sooner and one instant, `activity_cutoff`, splits every activity into
stalled (at or before it) and not. It is worked out from the calendar directly, by counting
working days back from ``end``, never by trying moments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.cadence.calendar import MICROSECOND, WorkingCalendar
from bot.cadence.config import CadenceConfig
from bot.cadence.hours import calendar_for


def working_calendar(cadence: CadenceConfig) -> WorkingCalendar:
    """The workspace's working calendar: its zone, working weekdays and holidays."""
    return calendar_for(cadence.zone, cadence.working_hours)


def stall_moment(activity: datetime, calendar: WorkingCalendar, stall_after_days: int) -> datetime:
    """When a decision last active at ``activity`` becomes stalled for want of activity."""
    _check_days(stall_after_days)
    return calendar.add_working_days(activity, stall_after_days)


def activity_cutoff(end: datetime, calendar: WorkingCalendar, stall_after_days: int) -> datetime:
    """The latest activity instant that is stalled at ``end``.

    Exactly: ``stall_moment(a) <= end`` if and only if ``a <= activity_cutoff(end)``.
    """
    _check_days(stall_after_days)
    reached = calendar.clock_reached(end)
    day = reached.date()
    if calendar.is_working_day(day):
        # Activity on the working day n back has stalled up to the clock's reading now.
        first_not_stalled = (
            datetime.combine(calendar.working_day_before(day, stall_after_days), reached.time())
            + MICROSECOND
        )
    else:
        # On a non-working day the last working day has passed whole, so all of the working
        # day n back from it has stalled, and nothing after it (which counts from later).
        last = calendar.working_day_before(day)
        first_not_stalled = datetime.combine(
            calendar.working_day_before(last, stall_after_days) + timedelta(days=1), time(0)
        )
    return calendar.moment(first_not_stalled) - MICROSECOND


@dataclass(frozen=True, slots=True)
class StallBounds:
    """What the stall rule compares a decision with, for one moment ``at``."""

    at: datetime
    #: Due dates before this local day are past.
    today: date
    #: Activity at or before this instant is old enough.
    cutoff: datetime
    #: The owners whose away days fall in the count, with their own (earlier) cutoff: a
    #: person's away days are not working days for the decisions they own (`bot.timeoff`).
    owner_cutoffs: Mapping[str, datetime] = field(default_factory=dict)

    def cutoff_of(self, owner_id: str | None) -> datetime:
        """The activity cutoff for a decision owned by ``owner_id``."""
        return self.owner_cutoffs.get(owner_id or "", self.cutoff)

    def is_stalled(
        self, *, due_date: date | None, last_activity_at: datetime, owner_id: str | None = None
    ) -> bool:
        """The rule for one decision open at ``at``.

        The Python twin of `bot.decisions.stall.stalled_clause`.
        """
        if due_date is not None:
            return due_date < self.today
        return last_activity_at <= self.cutoff_of(owner_id)


def stall_bounds(
    at: datetime,
    cadence: CadenceConfig,
    days_off: Mapping[str, Collection[date]] | None = None,
) -> StallBounds:
    """The stall rule of this workspace's cadence at ``at``.

    ``days_off``: people's own days off (their time off); the decisions they own are counted
    on the workspace's calendar without those days too.
    """
    calendar = working_calendar(cadence)
    n = cadence.nudges.stall_after_days
    cutoff = activity_cutoff(at, calendar, n)
    owner_cutoffs: dict[str, datetime] = {}
    for owner, days in (days_off or {}).items():
        if not days:
            continue
        theirs = WorkingCalendar(
            zone=calendar.zone,
            weekdays=calendar.weekdays,
            days_off=calendar.days_off | frozenset(days),
        )
        own = activity_cutoff(at, theirs, n)
        if own != cutoff:
            owner_cutoffs[owner] = own
    return StallBounds(at=at, today=calendar.today(at), cutoff=cutoff, owner_cutoffs=owner_cutoffs)


def local_today(now: datetime, cadence: CadenceConfig) -> date:
    """The workspace's local day at ``now``: due dates before it are past."""
    return working_calendar(cadence).today(now)


def _check_days(stall_after_days: int) -> None:
    if stall_after_days < 1:
        raise ValueError("stall_after_days must be at least 1")
