"""Dates as people type them: every form, every refusal, and the weekday arithmetic."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.slack.parsing.dates import (
    ACCEPTED_DATE_FORMS,
    check_date_form,
    looks_like_date,
    parse_date,
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
        ("next friday", "couldn't read “next friday”"),
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
        "I couldn't read “foo” as a date. Use YYYY-MM-DD, today, tomorrow, a weekday (friday), "
        "in N days, in N weeks, next week or eow."
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
