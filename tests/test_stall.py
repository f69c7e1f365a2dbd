"""The stall boundary: the closed-form cutoff against a direct, day-by-day count.

`reference_stalled` below is docs/METRICS.md's rule written the slow, obvious way: find the
clock reading the activity happened at (the latest reading shown so far), step forward one local
day at a time counting working days, and ask whether the clock has shown that reading on the
n-th one by the end. It shares nothing with `bot.cadence.stall` but the zone data. The
properties check the cutoff against it over random zones, working weekdays, days off and
instants aimed at daylight-saving changes, midnights and the boundary itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cadence.calendar import WorkingCalendar, local_moment
from bot.cadence.config import CadenceConfig
from bot.cadence.stall import activity_cutoff, stall_bounds, stall_moment, working_calendar

µs = timedelta(microseconds=1)

# The zones the issue's independent check used, and a few with odd rules: a 30-minute change
# (Lord Howe), changes at midnight (Santiago, Cairo, Havana) and none at all (Kolkata, UTC).
ZONE_NAMES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Africa/Cairo",
    "America/Havana",
    "UTC",
]
YEARS = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


@cache
def transitions(name: str) -> tuple[datetime, ...]:
    """Every instant in 2024–2027 at which the zone's offset changes (to the second)."""
    zone = ZoneInfo(name)
    found = []
    at = YEARS[0]
    while at < YEARS[1]:
        step = at + timedelta(hours=1)
        after = step.astimezone(zone).utcoffset()
        if at.astimezone(zone).utcoffset() != after:
            # Zone data (TZif) keeps transitions in whole seconds: halve over seconds.
            low, high = int(at.timestamp()), int(step.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, zone).utcoffset() == after:
                    high = middle
                else:
                    low = middle
            found.append(datetime.fromtimestamp(high, UTC))
        at = step
    return tuple(found)


# --- the reference ----------------------------------------------------------------------------


def reading(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def latest_reading(at: datetime, zone: ZoneInfo) -> datetime:
    """The greatest reading the clock showed at or before ``at``, looking back second by second
    across the stretch of an hour or so that a fall-back repeats."""
    best = reading(at, zone)
    for transition in transitions(zone.key):
        if transition <= at < transition + timedelta(hours=3):
            # The clock may have read more just before it was set back.
            best = max(best, reading(transition - µs, zone))
    return best


def reference_stalled(activity: datetime, end: datetime, calendar: WorkingCalendar, n: int) -> bool:
    zone = calendar.zone

    def working(day: date) -> bool:
        return day.weekday() in calendar.weekdays and day not in calendar.days_off

    start = latest_reading(activity, zone)
    day, clock = start.date(), start.time()
    if not working(day):
        day += timedelta(days=1)
        while not working(day):
            day += timedelta(days=1)
        clock = time(0)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        counted += working(day)
    return latest_reading(end, zone) >= datetime.combine(day, clock)


# --- strategies -------------------------------------------------------------------------------

ZONES = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
WEEKDAY_SETS = st.one_of(
    st.just(frozenset(range(5))),  # Mon–Fri
    st.just(frozenset({6, 0, 1, 2, 3})),  # Sun–Thu
    st.frozensets(st.integers(0, 6), min_size=1),
)
DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkingCalendar:
    zone = draw(ZONES)
    weekdays = draw(WEEKDAY_SETS)
    # Days off near the transitions, where they meet the counts under test.
    near = [t.astimezone(zone).date() for t in transitions(zone.key)]
    off_days = st.one_of(DAYS, st.sampled_from(near) if near else DAYS).flatmap(
        lambda d: st.integers(-12, 12).map(lambda k: d + timedelta(days=k))
    )
    days_off = draw(st.frozensets(off_days, max_size=8))
    return WorkingCalendar(zone=zone, weekdays=weekdays, days_off=days_off)


@st.composite
def instants(draw: st.DrawFn, zone: ZoneInfo) -> datetime:
    """Anywhen; or near a transition (inside a repeated hour, beside a skipped one); or a
    local midnight; or a local midnight give or take a microsecond."""
    kind = draw(st.sampled_from(["any", "transition", "midnight"]))
    changes = transitions(zone.key)
    if kind == "transition" and changes:
        base = draw(st.sampled_from(changes))
        return base + timedelta(seconds=draw(st.integers(-3 * 3600, 3 * 3600)))
    if kind == "midnight":
        day = draw(DAYS)
        return local_moment(day, time(0), zone) + draw(st.sampled_from([-µs, timedelta(0), µs]))
    return draw(
        st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
        )
    )


CASE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- properties -------------------------------------------------------------------------------


@CASE
@given(st.data(), calendars(), st.integers(1, 12))
def test_the_cutoff_splits_activity_exactly_as_the_day_by_day_count(
    data: st.DataObject, calendar: WorkingCalendar, n: int
) -> None:
    end = data.draw(instants(calendar.zone), label="end")
    cutoff = activity_cutoff(end, calendar, n)
    assert cutoff < end
    # Exactly at the cutoff: stalled; one microsecond later: not.
    assert reference_stalled(cutoff, end, calendar, n)
    assert not reference_stalled(cutoff + µs, end, calendar, n)
    # And anywhere else.
    activity = data.draw(instants(calendar.zone), label="activity")
    assert (activity <= cutoff) == reference_stalled(activity, end, calendar, n)
    # At a midnight n working days or so before the end.
    day = calendar.today(end) - timedelta(days=data.draw(st.integers(0, 3 * n + 6)))
    midnight = local_moment(day, time(0), calendar.zone)
    assert (midnight <= cutoff) == reference_stalled(midnight, end, calendar, n)


@CASE
@given(st.data(), calendars(), st.integers(1, 12))
def test_stall_moment_is_when_the_count_is_reached(
    data: st.DataObject, calendar: WorkingCalendar, n: int
) -> None:
    activity = data.draw(instants(calendar.zone), label="activity")
    stalls = stall_moment(activity, calendar, n)
    assert stalls > activity
    assert reference_stalled(activity, stalls, calendar, n)
    assert not reference_stalled(activity, stalls - µs, calendar, n)
    # The two functions are one rule seen from either side.
    assert activity_cutoff(stalls, calendar, n) >= activity
    assert activity_cutoff(stalls - µs, calendar, n) < activity


@CASE
@given(st.data(), calendars(), st.integers(1, 8))
def test_a_due_moment_inside_a_skipped_or_repeated_hour(
    data: st.DataObject, calendar: WorkingCalendar, n: int
) -> None:
    """Activity whose n-th working day reads a time the zone skips or repeats that day."""
    changes = transitions(calendar.zone.key)
    if not changes:
        return
    change = data.draw(st.sampled_from(changes), label="change")
    zone = calendar.zone
    before, after = reading(change - µs, zone), reading(change, zone)
    # The readings skipped (after > before) or shown twice (after < before) at this change.
    low, high = sorted([before, after])
    clock_at = low + (high - low) * data.draw(st.floats(0, 1), label="where")
    day = clock_at.date()
    if not calendar.is_working_day(day):
        return
    # The working day n back from it, at the same reading.
    origin = calendar.working_day_before(day, n)
    activity = local_moment(origin, clock_at.time(), zone)
    end = change + timedelta(seconds=data.draw(st.integers(-2 * 3600, 2 * 3600)))
    cutoff = activity_cutoff(end, calendar, n)
    assert (activity <= cutoff) == reference_stalled(activity, end, calendar, n)
    stalls = stall_moment(activity, calendar, n)
    assert reference_stalled(activity, stalls, calendar, n)
    assert not reference_stalled(activity, stalls - µs, calendar, n)


@CASE
@given(st.data(), calendars(), st.integers(1, 8))
def test_later_activity_never_stalls_sooner(
    data: st.DataObject, calendar: WorkingCalendar, n: int
) -> None:
    first = data.draw(instants(calendar.zone))
    second = data.draw(instants(calendar.zone))
    early, late = sorted([first, second])
    assert stall_moment(early, calendar, n) <= stall_moment(late, calendar, n)


# --- by hand ----------------------------------------------------------------------------------

NEW_YORK = CadenceConfig(timezone="America/New_York")


def test_the_smallest_case_from_the_issue() -> None:
    """Mon 2 Mar 2026 00:00 EST, Mon–Fri, five working days: stalled when 2–8 Mar ends."""
    created = datetime(2026, 3, 2, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    week_end = datetime(2026, 3, 9, 0, 0, tzinfo=ZoneInfo("America/New_York"))  # EDT by then
    calendar = working_calendar(NEW_YORK)
    assert activity_cutoff(week_end, calendar, 5) == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert stall_moment(created, calendar, 5) == week_end
    bounds = stall_bounds(week_end, NEW_YORK)
    assert bounds.is_stalled(due_date=None, last_activity_at=created)
    assert not bounds.is_stalled(due_date=None, last_activity_at=created + µs)


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        # Wed 12 Nov 2025 15:00 UTC, Mon–Fri, 2 days: activity up to Mon 15:00 is old enough.
        (datetime(2025, 11, 12, 15, tzinfo=UTC), datetime(2025, 11, 10, 15, tzinfo=UTC)),
        # Saturday noon: all of Wednesday counts (Thursday and Friday have passed whole).
        (datetime(2025, 11, 15, 12, tzinfo=UTC), datetime(2025, 11, 13, 0, tzinfo=UTC) - µs),
        # Monday 09:00: up to Thursday 09:00 (Friday, then Monday up to 09:00, followed it).
        (datetime(2025, 11, 17, 9, tzinfo=UTC), datetime(2025, 11, 13, 9, tzinfo=UTC)),
    ],
)
def test_cutoffs_worked_by_hand(end: datetime, expected: datetime) -> None:
    calendar = WorkingCalendar(zone=ZoneInfo("UTC"), weekdays=frozenset(range(5)))
    assert activity_cutoff(end, calendar, 2) == expected


def test_days_off_are_skipped_like_weekends() -> None:
    # Thanksgiving Thu 27 Nov 2025 off: from Wed 26 Nov 10:00, two working days are Fri and Mon.
    calendar = WorkingCalendar(
        zone=ZoneInfo("UTC"), weekdays=frozenset(range(5)), days_off=frozenset({date(2025, 11, 27)})
    )
    activity = datetime(2025, 11, 26, 10, tzinfo=UTC)
    assert stall_moment(activity, calendar, 2) == datetime(2025, 12, 1, 10, tzinfo=UTC)
    assert activity_cutoff(datetime(2025, 12, 1, 10, tzinfo=UTC), calendar, 2) == activity
    # Activity on the day off counts from Friday 00:00, like activity on a Saturday.
    holiday = datetime(2025, 11, 27, 15, tzinfo=UTC)
    assert stall_moment(holiday, calendar, 1) == datetime(2025, 12, 1, 0, tzinfo=UTC)


def test_working_hours_play_no_part() -> None:
    """Activity at 23:00 or 03:00 counts like activity at noon: days only, not hours."""
    night_owls = CadenceConfig.model_validate(
        {"working_hours": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00"}}
    )
    calendar = working_calendar(night_owls)
    late = datetime(2025, 11, 10, 23, tzinfo=UTC)
    assert stall_moment(late, calendar, 1) == datetime(2025, 11, 11, 23, tzinfo=UTC)
    early = datetime(2025, 11, 11, 3, tzinfo=UTC)
    assert stall_moment(early, calendar, 1) == datetime(2025, 11, 12, 3, tzinfo=UTC)


def test_no_activity_rule_needs_a_day() -> None:
    calendar = working_calendar(NEW_YORK)
    with pytest.raises(ValueError):
        activity_cutoff(datetime(2026, 3, 9, tzinfo=UTC), calendar, 0)
