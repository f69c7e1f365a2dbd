"""When the weekly digest is due, which week it reports, and the periods /hygiene stats shows.

Weeks and months are the workspace's local calendar: they run from local midnight to local
midnight, so a week that crosses a daylight-saving change is 167 or 169 hours long and still
holds seven whole days. A digest week starts on the digest's own weekday: the digest sent on
Monday reports Monday to Sunday just ended, one sent on Friday reports Friday to Thursday.

The key of a week (``2026-W48``) is the ISO week of its last day. It names a digest in the
deliveries ledger, so a week's digest goes out once however late or often the planner runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.cadence.config import CadenceConfig, weekday_number
from bot.cadence.hours import last_weekly_moment, local_moment, week_bounds

#: How long after its moment a missed digest is still sent (a worker down for a deploy or a
#: night); later than this it would arrive on a different day than people expect, and a
#: workspace that adds recipients mid-week would get last week's digest out of the blue.
DIGEST_LATE_LIMIT = timedelta(hours=24)

#: How many weeks the digest's trend chart covers.
TREND_WEEKS = 8


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar period in the workspace's zone: [start, end) in UTC and its local days."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    key: str


@dataclass(frozen=True, slots=True)
class DigestDue:
    """The digest that is due: the ledger's period key, the moment it fell due, the week."""

    period_key: str
    due_at: datetime
    week: Period


def digest_due(now: datetime, cadence: CadenceConfig) -> DigestDue | None:
    """The weekly digest due at ``now``, or None when there is none to send.

    It is due from its configured day and time (in the workspace's zone) for
    `DIGEST_LATE_LIMIT`, and only when the workspace has recipients. A planner that inserts one
    ledger row per recipient keyed by ``period_key`` sends each week's digest exactly once.
    """
    schedule = cadence.digest
    if not schedule.recipients:
        return None
    due_at = last_weekly_moment(now, cadence.zone, schedule.day, schedule.time)
    if now - due_at >= DIGEST_LATE_LIMIT:
        return None
    week = reported_week(due_at, cadence)
    return DigestDue(period_key=week.key, due_at=due_at, week=week)


def next_digest_moment(now: datetime, cadence: CadenceConfig) -> datetime:
    """The moment of the next digest to go out: the current one while it is still being sent
    (within `DIGEST_LATE_LIMIT` of its moment), else the first one after ``now``."""
    schedule = cadence.digest
    last = last_weekly_moment(now, cadence.zone, schedule.day, schedule.time)
    if now - last < DIGEST_LATE_LIMIT:
        return last
    return last_weekly_moment(now + timedelta(days=7), cadence.zone, schedule.day, schedule.time)


def reported_week(moment: datetime, cadence: CadenceConfig) -> Period:
    """The last whole digest week ended at or before ``moment``: what a digest sent then reports."""
    return previous_week(week_of(moment, cadence), cadence)


def week_of(moment: datetime, cadence: CadenceConfig) -> Period:
    """The digest week (starting on the digest's weekday) that contains ``moment``."""
    return _week(moment.astimezone(cadence.zone).date(), cadence)


def previous_week(week: Period, cadence: CadenceConfig) -> Period:
    return _week(week.first_day - timedelta(days=7), cadence)


def weeks_ending(week: Period, count: int, cadence: CadenceConfig) -> list[Period]:
    """``count`` consecutive weeks, oldest first, the last of them ``week``."""
    if count < 1:
        raise ValueError("count must be at least 1")
    weeks = [week]
    while len(weeks) < count:
        weeks.insert(0, previous_week(weeks[0], cadence))
    return weeks


def month_of(moment: datetime, cadence: CadenceConfig) -> Period:
    """The local calendar month that contains ``moment``."""
    day = moment.astimezone(cadence.zone).date()
    return _month(day.replace(day=1), cadence)


def previous_month(month: Period, cadence: CadenceConfig) -> Period:
    return _month((month.first_day - timedelta(days=1)).replace(day=1), cadence)


def bounds_of(periods: list[Period]) -> list[datetime]:
    """The n + 1 instants that delimit n consecutive periods."""
    return [*(p.start for p in periods), periods[-1].end]


def _week(day: date, cadence: CadenceConfig) -> Period:
    first = day - timedelta(days=(day.weekday() - weekday_number(cadence.digest.day)) % 7)
    start, end = week_bounds(first, cadence.zone, cadence.digest.day)
    last = first + timedelta(days=6)
    iso = last.isocalendar()
    return Period(
        start=start, end=end, first_day=first, last_day=last, key=f"{iso.year}-W{iso.week:02d}"
    )


def _month(first: date, cadence: CadenceConfig) -> Period:
    following = (first + timedelta(days=31)).replace(day=1)
    return Period(
        start=local_moment(first, time(0), cadence.zone),
        end=local_moment(following, time(0), cadence.zone),
        first_day=first,
        last_day=following - timedelta(days=1),
        key=f"{first.year}-{first.month:02d}",
    )
