"""Working-hours arithmetic, worked by hand across daylight-saving changes, then by property.

2026 transitions used below (all on Sundays):
  America/Los_Angeles  03-08 02:00 PST -> 03:00 PDT (10:00Z)
                       11-01 02:00 PDT -> 01:00 PST (09:00Z)
  Europe/Berlin        03-29 02:00 CET -> 03:00 CEST (01:00Z)
                       10-25 03:00 CEST -> 02:00 CET (01:00Z)
  Pacific/Auckland     09-27 02:00 NZST -> 03:00 NZDT (14:00Z on 09-26)
                       04-05 03:00 NZDT -> 02:00 NZST (14:00Z on 04-04)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.cadence.config import WEEKDAYS, Weekday, WorkingHours
from bot.cadence.hours import (
    add_working_days,
    is_working_time,
    last_weekly_moment,
    local_moment,
    next_working_moment,
    week_bounds,
    working_days_between,
)

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
AUCKLAND = ZoneInfo("Pacific/Auckland")
OFFICE = WorkingHours()  # mon-fri 09:00-17:30
WEEKENDS = WorkingHours(days=["sat", "sun"], start="10:00", end="14:00")
EARLY_EVERY_DAY = WorkingHours(days=list(WEEKDAYS), start="02:30", end="04:00")
INSIDE_THE_GAP = WorkingHours(days=list(WEEKDAYS), start="02:10", end="02:50")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- turning wall-clock times into moments -------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "clock", "expected"),
    [
        (LA, date(2026, 3, 8), time(1, 59), utc(2026, 3, 8, 9, 59)),
        (LA, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 10, 0)),  # skipped: the jump itself
        (LA, date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 10, 0)),
        (LA, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 8, 30)),  # repeated: the first
        (BERLIN, date(2026, 3, 29), time(2, 15), utc(2026, 3, 29, 1, 0)),
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        (AUCKLAND, date(2026, 9, 27), time(2, 30), utc(2026, 9, 26, 14, 0)),
        (AUCKLAND, date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 13, 30)),
        (AUCKLAND, date(2026, 4, 5), time(9, 0), utc(2026, 4, 4, 21, 0)),
    ],
)
def test_local_moment(zone: ZoneInfo, day: date, clock: time, expected: datetime) -> None:
    assert local_moment(day, clock, zone) == expected


# --- inside or outside working hours -------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "hours", "working"),
    [
        (utc(2026, 3, 27, 8, 30), BERLIN, OFFICE, True),  # Fri 09:30 CET
        (utc(2026, 3, 27, 16, 30), BERLIN, OFFICE, False),  # Fri 17:30 CET: the end is open
        (utc(2026, 3, 27, 16, 29, 59), BERLIN, OFFICE, True),
        (utc(2026, 3, 30, 7, 0), BERLIN, OFFICE, True),  # Mon 09:00 CEST, after the jump
        (utc(2026, 3, 30, 6, 59), BERLIN, OFFICE, False),  # Mon 08:59 CEST
        (utc(2026, 3, 28, 10, 0), BERLIN, OFFICE, False),  # Saturday
        (utc(2026, 11, 2, 16, 59), LA, OFFICE, False),  # Mon 08:59 PST
        (utc(2026, 11, 2, 17, 0), LA, OFFICE, True),  # Mon 09:00 PST
        (utc(2026, 4, 4, 21, 30), AUCKLAND, WEEKENDS, False),  # Sun 09:30 NZST
        (utc(2026, 4, 4, 22, 0), AUCKLAND, WEEKENDS, True),  # Sun 10:00 NZST
        (utc(2026, 4, 3, 21, 0), AUCKLAND, WEEKENDS, True),  # Sat 10:00 NZDT
        (utc(2026, 4, 6, 0, 0), AUCKLAND, WEEKENDS, False),  # Mon 12:00 NZST
        (utc(2026, 3, 8, 9, 59, 59), LA, EARLY_EVERY_DAY, False),  # 01:59:59 PST
        (utc(2026, 3, 8, 10, 0), LA, EARLY_EVERY_DAY, True),  # 03:00 PDT, 02:30 never came
        (utc(2026, 3, 8, 11, 0), LA, EARLY_EVERY_DAY, False),  # 04:00 PDT
    ],
)
def test_is_working_time(
    moment: datetime, zone: ZoneInfo, hours: WorkingHours, working: bool
) -> None:
    assert is_working_time(moment, zone, hours) is working


@pytest.mark.parametrize(
    ("moment", "zone", "hours", "expected"),
    [
        # Friday evening before the US spring change: Monday 09:00 is PDT, 16:00Z.
        (utc(2026, 3, 7, 2, 0), LA, OFFICE, utc(2026, 3, 9, 16, 0)),
        # Friday evening before the US autumn change: Monday 09:00 is PST, 17:00Z.
        (utc(2026, 10, 31, 2, 0), LA, OFFICE, utc(2026, 11, 2, 17, 0)),
        # Inside hours: unchanged.
        (utc(2026, 11, 2, 18, 15), LA, OFFICE, utc(2026, 11, 2, 18, 15)),
        # Berlin Saturday morning before the spring change: Monday 09:00 CEST.
        (utc(2026, 3, 28, 8, 0), BERLIN, OFFICE, utc(2026, 3, 30, 7, 0)),
        # Berlin Friday before the autumn change, early morning: same day 09:00 CEST.
        (utc(2026, 10, 23, 5, 0), BERLIN, OFFICE, utc(2026, 10, 23, 7, 0)),
        # Berlin Saturday before the autumn change: Monday 09:00 CET.
        (utc(2026, 10, 24, 12, 0), BERLIN, OFFICE, utc(2026, 10, 26, 8, 0)),
        # Auckland weekend hours, Saturday after work: Sunday 10:00 NZST after the change.
        (utc(2026, 4, 4, 1, 0), AUCKLAND, WEEKENDS, utc(2026, 4, 4, 22, 0)),
        # Auckland weekend hours from a Wednesday: Saturday 10:00 NZST.
        (utc(2026, 9, 23, 0, 0), AUCKLAND, WEEKENDS, utc(2026, 9, 25, 22, 0)),
        # The window's start 02:30 is skipped on 2026-03-08 in LA: it opens at the jump.
        (utc(2026, 3, 8, 9, 0), LA, EARLY_EVERY_DAY, utc(2026, 3, 8, 10, 0)),
        # A window wholly inside the skipped hour does not happen; the next day's does.
        (utc(2026, 3, 8, 9, 0), LA, INSIDE_THE_GAP, utc(2026, 3, 9, 9, 10)),
        # Auckland spring change: 02:30 NZST never shows, the window opens at 03:00 NZDT.
        (utc(2026, 9, 26, 12, 0), AUCKLAND, EARLY_EVERY_DAY, utc(2026, 9, 26, 14, 0)),
    ],
)
def test_next_working_moment(
    moment: datetime, zone: ZoneInfo, hours: WorkingHours, expected: datetime
) -> None:
    result = next_working_moment(moment, zone, hours)
    assert result == expected
    assert result.tzinfo is UTC


def test_any_aware_input_is_accepted_and_naive_is_refused() -> None:
    berlin_morning = datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
    assert next_working_moment(berlin_morning, BERLIN, OFFICE) == utc(2026, 3, 30, 7, 0)
    with pytest.raises(ValueError, match="aware"):
        is_working_time(datetime(2026, 3, 30, 9, 0), BERLIN, OFFICE)


# --- counting working days ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "zone", "hours", "expected"),
    [
        # Thu 10:00 CET + 2 working days = Mon 10:00 CEST, across the weekend and the change.
        (utc(2026, 3, 26, 9, 0), 1, BERLIN, OFFICE, utc(2026, 3, 27, 9, 0)),
        (utc(2026, 3, 26, 9, 0), 2, BERLIN, OFFICE, utc(2026, 3, 30, 8, 0)),
        (utc(2026, 3, 26, 9, 0), 7, BERLIN, OFFICE, utc(2026, 4, 6, 8, 0)),
        # Fri 16:00 PDT + 1 = Mon 16:00 PST.
        (utc(2026, 10, 30, 23, 0), 1, LA, OFFICE, utc(2026, 11, 3, 0, 0)),
        # Fri 10:00 PST + 5 = the next Friday 10:00 PDT.
        (utc(2026, 3, 6, 18, 0), 5, LA, OFFICE, utc(2026, 3, 13, 17, 0)),
        # Weekend hours in Auckland: Sat 11:00 NZDT + 1 = Sun 11:00 NZST, 25 hours later.
        (utc(2026, 4, 3, 22, 0), 1, AUCKLAND, WEEKENDS, utc(2026, 4, 4, 23, 0)),
        (utc(2026, 4, 3, 22, 0), 2, AUCKLAND, WEEKENDS, utc(2026, 4, 10, 23, 0)),
        # From a non-working Monday, counting starts at Saturday 00:00: + 1 = Sunday 00:00.
        (utc(2026, 4, 6, 3, 0), 1, AUCKLAND, WEEKENDS, utc(2026, 4, 11, 12, 0)),
        # From a Berlin Saturday, + 1 = Tuesday 00:00 CEST (all of Monday must pass).
        (utc(2026, 3, 28, 12, 0), 1, BERLIN, OFFICE, utc(2026, 3, 30, 22, 0)),
        # 02:30 PST + 1 day lands on the skipped 02:30 of 03-08: the jump, 03:00 PDT.
        (utc(2026, 3, 7, 10, 30), 1, LA, EARLY_EVERY_DAY, utc(2026, 3, 8, 10, 0)),
        # 01:30 PDT + 1 day lands on the repeated 01:30 of 11-01: its first occurrence.
        (utc(2026, 10, 31, 8, 30), 1, LA, EARLY_EVERY_DAY, utc(2026, 11, 1, 8, 30)),
        (utc(2026, 3, 26, 9, 0), 0, BERLIN, OFFICE, utc(2026, 3, 26, 9, 0)),
    ],
)
def test_add_working_days(
    start: datetime, n: int, zone: ZoneInfo, hours: WorkingHours, expected: datetime
) -> None:
    assert add_working_days(start, n, zone, hours) == expected
    assert working_days_between(start, expected, zone, hours) == n


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(utc(2026, 3, 26, 9, 0), -1, BERLIN, OFFICE)


@pytest.mark.parametrize(
    ("start", "end", "zone", "expected"),
    [
        (utc(2026, 3, 26, 9, 0), utc(2026, 3, 30, 8, 0), BERLIN, 2),
        (utc(2026, 3, 26, 9, 0), utc(2026, 3, 30, 7, 59, 59), BERLIN, 1),
        (utc(2026, 3, 26, 9, 0), utc(2026, 3, 27, 8, 59), BERLIN, 0),
        (utc(2026, 10, 30, 23, 0), utc(2026, 11, 3, 0, 0), LA, 1),
        (utc(2026, 10, 30, 23, 0), utc(2026, 11, 2, 23, 59), LA, 0),  # Mon 15:59 PST
        (utc(2026, 10, 23, 8, 0), utc(2026, 10, 30, 9, 0), BERLIN, 5),  # Fri 10:00 CEST -> CET
        (utc(2026, 10, 23, 8, 0), utc(2026, 10, 30, 8, 59), BERLIN, 4),
        (utc(2026, 3, 30, 8, 0), utc(2026, 3, 26, 9, 0), BERLIN, 0),  # end before start
        (utc(2026, 1, 5, 9, 0), utc(2026, 12, 28, 9, 0), BERLIN, 255),  # 51 weeks of five
    ],
)
def test_working_days_between(
    start: datetime, end: datetime, zone: ZoneInfo, expected: int
) -> None:
    assert working_days_between(start, end, zone, OFFICE) == expected


# --- weeks and weekly schedules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "zone", "week_start", "start", "end", "hours"),
    [
        (date(2026, 3, 8), LA, "mon", utc(2026, 3, 2, 8, 0), utc(2026, 3, 9, 7, 0), 167),
        (date(2026, 11, 1), LA, "mon", utc(2026, 10, 26, 7, 0), utc(2026, 11, 2, 8, 0), 169),
        (date(2026, 3, 8), LA, "sun", utc(2026, 3, 8, 8, 0), utc(2026, 3, 15, 7, 0), 167),
        (date(2026, 3, 23), BERLIN, "mon", utc(2026, 3, 22, 23, 0), utc(2026, 3, 29, 22, 0), 167),
        (
            date(2026, 10, 25),
            BERLIN,
            "mon",
            utc(2026, 10, 18, 22, 0),
            utc(2026, 10, 25, 23, 0),
            169,
        ),
        (date(2026, 4, 5), AUCKLAND, "mon", utc(2026, 3, 29, 11, 0), utc(2026, 4, 5, 12, 0), 169),
        (date(2026, 9, 23), AUCKLAND, "mon", utc(2026, 9, 20, 12, 0), utc(2026, 9, 27, 11, 0), 167),
        (date(2026, 6, 10), BERLIN, "mon", utc(2026, 6, 7, 22, 0), utc(2026, 6, 14, 22, 0), 168),
    ],
)
def test_week_bounds(
    day: date,
    zone: ZoneInfo,
    week_start: Weekday,
    start: datetime,
    end: datetime,
    hours: int,
) -> None:
    assert week_bounds(day, zone, week_start) == (start, end)
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("now", "zone", "day", "at", "expected"),
    [
        # Monday 09:00 Berlin is 07:00Z after the spring change and 08:00Z before it.
        (utc(2026, 3, 30, 7, 0), BERLIN, "mon", time(9, 0), utc(2026, 3, 30, 7, 0)),
        (utc(2026, 3, 30, 6, 59), BERLIN, "mon", time(9, 0), utc(2026, 3, 23, 8, 0)),
        (utc(2026, 4, 5, 12, 0), BERLIN, "mon", time(9, 0), utc(2026, 3, 30, 7, 0)),
        # A Friday 16:00 LA digest, checked late on the Sunday of the autumn change.
        (utc(2026, 11, 2, 6, 0), LA, "fri", time(16, 0), utc(2026, 10, 30, 23, 0)),
        (utc(2026, 11, 7, 0, 0), LA, "fri", time(16, 0), utc(2026, 11, 7, 0, 0)),
        # Sunday 09:00 Auckland on the day daylight saving ends: NZST, 21:00Z the day before.
        (utc(2026, 4, 5, 3, 0), AUCKLAND, "sun", time(9, 0), utc(2026, 4, 4, 21, 0)),
        (utc(2026, 4, 4, 20, 59), AUCKLAND, "sun", time(9, 0), utc(2026, 3, 28, 20, 0)),
    ],
)
def test_last_weekly_moment(
    now: datetime, zone: ZoneInfo, day: Weekday, at: time, expected: datetime
) -> None:
    assert last_weekly_moment(now, zone, day, at) == expected


# --- properties -----------------------------------------------------------------------------

ZONES = st.sampled_from([LA, BERLIN, AUCKLAND, ZoneInfo("UTC")])
HOURS = st.sampled_from(
    [
        OFFICE,
        WEEKENDS,
        EARLY_EVERY_DAY,
        INSIDE_THE_GAP,
        WorkingHours(days=["sun"], start="01:30", end="03:00"),
        WorkingHours(days=["mon", "wed", "fri"], start="00:00", end="23:59"),
        WorkingHours(days=["tue"], start="13:00", end="13:01"),
    ]
)
TRANSITIONS = [
    utc(2026, 3, 8, 10, 0),
    utc(2026, 11, 1, 9, 0),
    utc(2026, 3, 29, 1, 0),
    utc(2026, 10, 25, 1, 0),
    utc(2026, 4, 4, 14, 0),
    utc(2026, 9, 26, 14, 0),
]
ANYWHEN = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
# Uniform draws seldom land near a daylight-saving change, so half the draws are aimed at one.
NEAR_A_CHANGE = st.builds(
    lambda change, seconds: change + timedelta(seconds=seconds),
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-9 * 24 * 3600, max_value=9 * 24 * 3600),
)
MOMENTS = st.one_of(ANYWHEN, NEAR_A_CHANGE)


def is_ambiguous(moment: datetime, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    return local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset()


@given(MOMENTS, st.integers(min_value=0, max_value=30), ZONES, HOURS)
def test_between_undoes_add(start: datetime, n: int, zone: ZoneInfo, hours: WorkingHours) -> None:
    later = add_working_days(start, n, zone, hours)
    assert later >= start
    assert working_days_between(start, later, zone, hours) == n
    if n:
        assert working_days_between(start, later - timedelta(microseconds=1), zone, hours) == n - 1
        assert later.astimezone(zone).weekday() in hours.weekday_numbers


@given(MOMENTS, MOMENTS, st.integers(min_value=1, max_value=10), ZONES, HOURS)
def test_later_start_never_ends_sooner(
    first: datetime, second: datetime, n: int, zone: ZoneInfo, hours: WorkingHours
) -> None:
    # Even through a repeated hour, where a later moment reads an earlier wall-clock time.
    early, late = sorted([first, second])
    assert add_working_days(early, n, zone, hours) <= add_working_days(late, n, zone, hours)
    end = max(first, second) + timedelta(days=n)
    assert working_days_between(early, end, zone, hours) >= working_days_between(
        late, end, zone, hours
    )


@given(MOMENTS, ZONES, HOURS)
def test_next_working_moment_is_the_first_working_moment(
    moment: datetime, zone: ZoneInfo, hours: WorkingHours
) -> None:
    result = next_working_moment(moment, zone, hours)
    assert result >= moment
    assert is_working_time(result, zone, hours)
    if result != moment:
        assert not is_working_time(result - timedelta(microseconds=1), zone, hours)
        assert not is_working_time(moment, zone, hours)
        assert not is_working_time(moment + (result - moment) / 2, zone, hours)


@given(MOMENTS, ZONES, HOURS)
def test_working_time_follows_the_wall_clock(
    moment: datetime, zone: ZoneInfo, hours: WorkingHours
) -> None:
    assume(not is_ambiguous(moment, zone))
    local = moment.astimezone(zone)
    expected = local.weekday() in hours.weekday_numbers and hours.start <= local.time() < hours.end
    assert is_working_time(moment, zone, hours) is expected


@given(MOMENTS, ZONES, st.sampled_from(WEEKDAYS), st.times())
def test_last_weekly_moment_is_the_latest_occurrence(
    now: datetime, zone: ZoneInfo, day: Weekday, at: time
) -> None:
    moment = last_weekly_moment(now, zone, day, at)
    assert moment <= now
    assert now - moment < timedelta(days=7, hours=2)
    local = moment.astimezone(zone)
    assert WEEKDAYS[local.weekday()] == day
    following = last_weekly_moment(moment + timedelta(days=8), zone, day, at)
    assert following > now


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)), ZONES)
def test_weeks_tile_the_calendar(day: date, zone: ZoneInfo) -> None:
    start, end = week_bounds(day, zone)
    assert start.astimezone(zone).time() == time(0)
    assert start.astimezone(zone).weekday() == 0
    assert start <= local_moment(day, time(0), zone) < end
    assert week_bounds(day + timedelta(days=7), zone)[0] == end
    assert timedelta(hours=166) <= end - start <= timedelta(hours=170)
