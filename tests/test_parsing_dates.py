"""Dates as people type them: every form, every refusal, and the weekday arithmetic."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.slack.parsing.dates import (
    ACCEPTED_DATE_FORMS,
    PAST_DATE_FORMS,
    check_date_form,
    looks_like_date,
    parse_date,
    parse_past_date,
    parse_time,
    quote_input,
    seems_meant_as_date,
)

# Wednesday.
TODAY = datetime.date(2026, 3, 4)
# Monday 2026-03-02 to Sunday 2026-03-08: one whole week, to check every weekday.
WEEK = [datetime.date(2026, 3, 2) + datetime.timedelta(days=offset) for offset in range(7)]


def d(iso: str) -> datetime.date:
    return datetime.date.fromisoformat(iso)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", d("2026-03-04")),
        ("2026-12-31", d("2026-12-31")),
        ("2028-02-29", d("2028-02-29")),
        ("2026-3-9", d("2026-03-09")),
        ("today", d("2026-03-04")),
        ("  TODAY ", d("2026-03-04")),
        ("tomorrow", d("2026-03-05")),
        ("Tomorrow", d("2026-03-05")),
        ("friday", d("2026-03-06")),
        ("fri", d("2026-03-06")),
        ("wednesday", d("2026-03-11")),
        ("wed", d("2026-03-11")),
        ("Monday", d("2026-03-09")),
        ("thurs", d("2026-03-05")),
        ("in 1 day", d("2026-03-05")),
        ("in 3 days", d("2026-03-07")),
        ("IN  10   DAYS", d("2026-03-14")),
        ("in 1 week", d("2026-03-11")),
        ("in 2 weeks", d("2026-03-18")),
        ("in 3650 days", TODAY + datetime.timedelta(days=3650)),
        ("in 521 weeks", TODAY + datetime.timedelta(weeks=521)),
        ("next week", d("2026-03-09")),
        ("Next  Week", d("2026-03-09")),
        ("eow", d("2026-03-06")),
        ("EOW", d("2026-03-06")),
        ("next friday", d("2026-03-13")),
        ("next mon", d("2026-03-09")),
        ("Next Wednesday", d("2026-03-11")),
        ("end of week", d("2026-03-06")),
        ("end of the week", d("2026-03-06")),
        ("end of month", d("2026-03-31")),
        ("end of the month", d("2026-03-31")),
        ("dec 15", d("2026-12-15")),
        ("15 dec", d("2026-12-15")),
        ("December 15th", d("2026-12-15")),
        ("mar 4", d("2026-03-04")),
        ("3 mar", d("2027-03-03")),
        ("feb 29", d("2028-02-29")),
        ("in a week", d("2026-03-11")),
        ("in a day", d("2026-03-05")),
    ],
)
def test_accepted_forms(text: str, expected: datetime.date) -> None:
    assert parse_date(text, today=TODAY) == expected
    assert looks_like_date(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Please give a date"),
        ("   ", "Please give a date"),
        ("foo", "couldn't read “foo”"),
        ("tomorow", "couldn't read “tomorow”"),
        ("next month", "couldn't read “next month”"),
        ("yesterday", "“yesterday” is in the past"),
        ("last friday", "is in the past"),
        ("3 days ago", "is in the past"),
        ("31 feb", "“31 feb” is not a real date"),
        ("feb 30", "not a real date"),
        ("dec 32", "not a real date"),
        ("12/15", "couldn't read"),
        ("in x days", "couldn't read"),
        ("in 3 months", "couldn't read"),
        ("in -3 days", "couldn't read"),
        ("03/05/2026", "couldn't read"),
        ("2026-13-45", "not a real date"),
        ("2026-02-29", "not a real date"),
        ("2026-02-30", "not a real date"),
        ("in 0 days", "from 1 to 3650 days"),
        ("in 3651 days", "from 1 to 3650 days"),
        ("in 0 weeks", "from 1 to 521 weeks"),
        ("in 522 weeks", "from 1 to 521 weeks"),
        ("in " + "9" * 5000 + " days", "from 1 to 3650 days"),
        ("2026-03-03", "“2026-03-03” is in the past"),
        ("1999-01-01", "is in the past"),
    ],
)
def test_refusals_say_what_was_wrong(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date(text, today=TODAY)
    assert fragment in caught.value.message
    assert ACCEPTED_DATE_FORMS in caught.value.message


def test_unreadable_date_message_matches_the_contract() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date("foo", today=TODAY)
    assert caught.value.message == (
        "I couldn't read “foo” as a date. Use YYYY-MM-DD, dec 15 or 15 dec, today, tomorrow, "
        "a weekday (friday), next friday, in N days, in N weeks, in a week, next week, "
        "end of week (eow) or end of month."
    )


def test_quoted_input_is_short_and_cannot_mention_anyone() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_date("<!channel> &amp; " + "x" * 200, today=TODAY)
    quoted = caught.value.message.split("“", 1)[1].split("”", 1)[0]
    assert "<" not in quoted and ">" not in quoted and "&" not in quoted
    assert quoted.startswith("!channel amp;") and quoted.endswith("…")
    assert len(quoted) <= 40
    assert quote_input("a\n\n b") == "“a b”"


def test_past_dates_are_only_possible_through_iso() -> None:
    assert parse_date("today", today=TODAY) == TODAY
    assert looks_like_date("2000-01-01")
    check_date_form("2000-01-01")


def test_far_future_is_refused_rather_than_crashing() -> None:
    last = datetime.date.max
    # 9999-12-31 is a Friday, so "eow" is still reachable there and is left out.
    for text in ("tomorrow", "friday", "in 2 weeks", "next week"):
        with pytest.raises(InvalidInput, match="too far in the future"):
            parse_date(text, today=last)


@pytest.mark.parametrize("today", WEEK, ids=lambda day: day.strftime("%a"))
def test_weekday_is_strictly_after_today(today: datetime.date) -> None:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for index, name in enumerate(names):
        for spelling in (name, name[:3], name.upper()):
            result = parse_date(spelling, today=today)
            assert result.weekday() == index
            assert 1 <= (result - today).days <= 7


@pytest.mark.parametrize("today", WEEK, ids=lambda day: day.strftime("%a"))
def test_next_week_is_the_following_monday(today: datetime.date) -> None:
    result = parse_date("next week", today=today)
    assert result == d("2026-03-09")
    assert result.weekday() == 0


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (d("2026-03-02"), d("2026-03-06")),
        (d("2026-03-03"), d("2026-03-06")),
        (d("2026-03-04"), d("2026-03-06")),
        (d("2026-03-05"), d("2026-03-06")),
        (d("2026-03-06"), d("2026-03-06")),
        (d("2026-03-07"), d("2026-03-13")),
        (d("2026-03-08"), d("2026-03-13")),
    ],
    ids=lambda value: value.strftime("%a") if isinstance(value, datetime.date) else "",
)
def test_eow_is_this_weeks_friday_or_the_coming_one_on_weekends(
    today: datetime.date, expected: datetime.date
) -> None:
    assert parse_date("eow", today=today) == expected


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("friday", True),
        ("tomorow", True),
        ("frday", True),
        ("2026-13-45", True),
        ("12/05", True),
        ("2026-02-30 noon", True),
        ("in x days", True),
        ("in 3 months", True),
        ("next friday", True),
        ("next month", True),
        ("yesterday", True),
        ("31 feb", True),
        ("dec 32", True),
        ("end of quarter", True),
        ("end of the sprint", False),
        ("may the best win", False),
        ("committee", False),
        ("consensus of the team", False),
        ("3/4 majority", False),
        ("next quarter", False),
        ("in person", False),
        ("email", False),
        ("", False),
    ],
)
def test_seems_meant_as_date(text: str, meant: bool) -> None:
    assert seems_meant_as_date(text) is meant


@given(st.text(), st.dates())
def test_parse_date_only_ever_refuses_with_invalid_input(text: str, today: datetime.date) -> None:
    try:
        result = parse_date(text, today=today)
    except InvalidInput as refusal:
        assert refusal.message
    else:
        assert result >= today
        assert looks_like_date(text)


_FRAGMENTS = st.sampled_from(
    ["in", "next", "week", "weeks", "day", "days", "eow", "fri", "today", "-", "0", "7", "9999"]
)


@given(st.lists(_FRAGMENTS, max_size=4).map(" ".join), st.dates())
def test_parse_date_on_near_misses(text: str, today: datetime.date) -> None:
    try:
        parse_date(text, today=today)
    except InvalidInput:
        assert not looks_like_date(text) or today > datetime.date(9990, 1, 1)
    seems_meant_as_date(text)


@pytest.mark.parametrize("today", WEEK, ids=lambda day: day.strftime("%a"))
def test_next_weekday_is_that_day_of_next_week(today: datetime.date) -> None:
    for index, name in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday"]):
        result = parse_date(f"next {name}", today=today)
        assert result.weekday() == index
        assert result - datetime.timedelta(days=index) == d("2026-03-09")


def test_end_of_month_on_its_last_day_and_in_december() -> None:
    assert parse_date("end of month", today=d("2026-03-31")) == d("2026-03-31")
    assert parse_date("end of month", today=d("2026-12-02")) == d("2026-12-31")
    assert parse_date("end of month", today=d("2028-02-01")) == d("2028-02-29")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", d("2026-03-04")),
        ("yesterday", d("2026-03-03")),
        ("monday", d("2026-03-02")),
        ("wednesday", d("2026-02-25")),
        ("last friday", d("2026-02-27")),
        ("dec 15", d("2025-12-15")),
        ("4 mar", d("2026-03-04")),
        ("3 days ago", d("2026-03-01")),
        ("a week ago", d("2026-02-25")),
        ("2026-01-05", d("2026-01-05")),
    ],
)
def test_past_forms(text: str, expected: datetime.date) -> None:
    assert parse_past_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["tomorrow", "next friday", "eow", "2026-03-05", "in 2 days"])
def test_future_days_are_refused_for_the_past(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_past_date(text, today=TODAY)
    assert "is in the future" in caught.value.message
    assert PAST_DATE_FORMS in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("14:30", (14, 30)), ("9am", (9, 0)), ("2:30pm", (14, 30)), ("noon", (12, 0)), ("9", (9, 0))],
)
def test_times(text: str, expected: tuple[int, int]) -> None:
    assert parse_time(text) == datetime.time(*expected)


@pytest.mark.parametrize("text", ["25:00", "13pm", "9:75", "soon", "0am"])
def test_bad_times_are_refused_with_the_forms(text: str) -> None:
    with pytest.raises(InvalidInput, match="14:30, 9:15, 9am or 2:30pm"):
        parse_time(text)


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_NEW_FORMS = st.one_of(
    st.sampled_from(["friday", "monday", "sun", "wed"]).map(lambda day: f"next {day}"),
    st.sampled_from(["end of week", "end of the week", "end of month", "in a week", "in a day"]),
    st.builds(
        lambda month, day, first: f"{month} {day}" if first else f"{day} {month}",
        st.sampled_from(_MONTHS),
        st.integers(1, 31),
        st.booleans(),
    ),
)


@given(_NEW_FORMS, st.dates(min_value=d("2000-01-01"), max_value=d("2900-12-31")))
def test_every_new_form_round_trips(text: str, today: datetime.date) -> None:
    """Each new form is read, or refused with the list; a read date is on or after today and
    reads back the same whichever spelling the person used."""
    try:
        result = parse_date(text, today=today)
    except InvalidInput as refusal:
        assert ACCEPTED_DATE_FORMS in refusal.message
        assert "not a real date" in refusal.message
        return
    assert result >= today
    assert looks_like_date(text)
    assert parse_date(text.upper(), today=today) == result
    assert parse_date(f"  {text}  ", today=today) == result
    if text[:1].isalpha() and text.split()[-1].isdigit():
        month, day = text.split()
        assert parse_date(f"{day} {month}", today=today) == result
        assert (result.month, result.day) == (_MONTHS.index(month) + 1, int(day))
        assert (result - today).days < 366 * 8


@given(st.text(max_size=30), st.dates())
def test_every_refusal_lists_the_forms(text: str, today: datetime.date) -> None:
    try:
        parse_date(text, today=today)
    except InvalidInput as refusal:
        assert ACCEPTED_DATE_FORMS in refusal.message or "too far in the future" in refusal.message
