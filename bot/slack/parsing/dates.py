"""Reading the dates people type into commands ("friday", "in 2 weeks", "2026-03-01").

Due dates arrive as free text and must be read in the typing person's timezone, so the
caller passes ``today`` (already in that timezone) and this module stays pure. Every refusal
is an ``InvalidInput`` that says what was wrong and lists the forms that work, because a
person who typed a date wrongly needs the right form more than an apology.
"""

import datetime
import difflib
import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.errors import InvalidInput

ACCEPTED_DATE_FORMS: Final = (
    "YYYY-MM-DD, dec 15 or 15 dec, today, tomorrow, a weekday (friday), next friday, "
    "in N days, in N weeks, in a week, next week, end of week (eow) or end of month"
)
#: The forms ``parse_past_date`` reads, for things that already happened (a logged meeting).
PAST_DATE_FORMS: Final = (
    "YYYY-MM-DD, dec 15 or 15 dec, today, yesterday, a weekday (monday: the last one) or N days ago"
)

# Ten years is further out than any honest due date; beyond it a typo is more likely.
MAX_DAYS_AHEAD: Final = 3650
_MAX_WEEKS_AHEAD: Final = MAX_DAYS_AHEAD // 7

_QUOTE_LIMIT: Final = 40

_WEEKDAY_NAMES: Final[dict[str, int]] = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTH_NAMES: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_FRIDAY: Final = 4
# Every month-and-day that exists in some year: 29 February is one, 31 April is not.
_LEAP_YEAR: Final = 2028

# re.ASCII keeps digits to 0-9: int() would happily read Arabic-Indic digits, but nobody
# means a due date with them and accepting them would make looks_like_date surprising.
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
_OFFSET = re.compile(r"in ([0-9]+|a|an|one) (day|days|week|weeks)", re.ASCII)
_AGO = re.compile(r"([0-9]+|a|one) (day|days|week|weeks) ago", re.ASCII)
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_MONTH_DAY = re.compile(rf"([a-z]+)\.? {_DAY}", re.ASCII)
_DAY_MONTH = re.compile(rf"{_DAY} ([a-z]+)\.?", re.ASCII)
_DIGIT_DATE_SHAPE = re.compile(r"[0-9]{1,4}(?:[-/.][0-9]{1,4}){1,2}", re.ASCII)
_STRICT_ISO_START = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\b", re.ASCII)
_UNIT_WORD = re.compile(r"(?:[0-9]+|a|an|days?|weeks?|months?|years?|hours?)", re.ASCII)
_NEXT_WORDS: Final = frozenset({"day", "week", "weeks", "month", "year", *_WEEKDAY_NAMES})
_END_WORDS: Final = frozenset({"week", "month", "year", "day", "quarter", "the"})
_FUZZY_KEYWORDS: Final = (
    "today",
    "tomorrow",
    "yesterday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

FormKind = Literal[
    "iso",
    "offset",
    "weekday",
    "next_weekday",
    "last_weekday",
    "next_week",
    "eow",
    "eom",
    "month_day",
]


@dataclass(frozen=True)
class _Form:
    """A date form recognised without knowing today; ``resolve`` turns it into a date."""

    kind: FormKind
    days: int = 0
    weekday: int = 0
    month: int = 0
    iso: datetime.date | None = None

    def resolve(self, today: datetime.date) -> datetime.date:
        """The date meant, for a due date: the coming one where the form names no year."""
        if self.kind == "iso":
            assert self.iso is not None
            return self.iso
        if self.kind == "offset":
            return today + datetime.timedelta(days=self.days)
        if self.kind == "weekday":
            # "friday" on a Friday means the next one: nobody types today's weekday for today.
            ahead = (self.weekday - today.weekday()) % 7 or 7
            return today + datetime.timedelta(days=ahead)
        if self.kind == "next_weekday":
            # "next friday" is the Friday of next week, as "next week" is its Monday.
            monday = today + datetime.timedelta(days=7 - today.weekday())
            return monday + datetime.timedelta(days=self.weekday)
        if self.kind == "next_week":
            return today + datetime.timedelta(days=7 - today.weekday())
        if self.kind == "last_weekday":
            return self.resolve_past(today)
        if self.kind == "eom":
            following = datetime.date(today.year + today.month // 12, today.month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        if self.kind == "month_day":
            return _next_month_day(self.month, self.days, today)
        # eow: on a weekend the week's Friday is gone, so the coming one is meant.
        return today + datetime.timedelta(days=(_FRIDAY - today.weekday()) % 7)

    def resolve_past(self, today: datetime.date) -> datetime.date:
        """The date meant, for something that already happened: the last one before today."""
        if self.kind in {"weekday", "last_weekday"}:
            behind = (today.weekday() - self.weekday) % 7 or 7
            return today - datetime.timedelta(days=behind)
        if self.kind == "month_day":
            return _month_day_from(self.month, self.days, today, step=-1)
        return self.resolve(today)


def _next_month_day(month: int, day: int, today: datetime.date) -> datetime.date:
    """The first ``day`` of ``month`` on or after ``today`` (29 February: the next leap year)."""
    return _month_day_from(month, day, today, step=1)


def _month_day_from(month: int, day: int, today: datetime.date, *, step: int) -> datetime.date:
    """The nearest ``day`` of ``month`` from ``today`` onwards (``step`` 1) or back (-1).

    Raises ``OverflowError`` past the calendar's ends, as date arithmetic does.
    """
    # Eight years always hold a 29 February (1900-style century gaps included).
    for offset in range(9):
        year = today.year + step * offset
        if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
            break
        try:
            candidate = datetime.date(year, month, day)
        except ValueError:
            continue
        if (candidate - today).days * step >= 0:
            return candidate
    raise OverflowError("no such date within the calendar")


def quote_input(text: str) -> str:
    """``text`` made safe and short enough to quote back inside an error message."""
    cleaned = " ".join(re.sub(r"[<>&]", "", text).split())
    if len(cleaned) > _QUOTE_LIMIT:
        cleaned = cleaned[: _QUOTE_LIMIT - 1].rstrip() + "…"
    return f"“{cleaned}”"


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").split())


def _unreadable(text: str, forms: str) -> InvalidInput:
    return InvalidInput(f"I couldn't read {quote_input(text)} as a date. Use {forms}.")


def _count(digits: str) -> int:
    if digits in {"a", "an", "one"}:
        return 1
    # Check the length before int(): a 5000-digit number would make int() itself refuse.
    return int(digits) if len(digits) <= 6 else 10**7


def _month_day(month_word: str, day_digits: str, text: str, forms: str) -> _Form | None:
    month = _MONTH_NAMES.get(month_word)
    if month is None:
        return None
    day = int(day_digits)
    try:
        datetime.date(_LEAP_YEAR, month, day)
    except ValueError:
        raise InvalidInput(f"{quote_input(text)} is not a real date. Use {forms}.") from None
    return _Form("month_day", month=month, days=day)


def _read_form(text: str, *, forms: str = ACCEPTED_DATE_FORMS) -> _Form:
    words = _normalise(text)
    if not words:
        raise InvalidInput(f"Please give a date. Use {forms}.")
    simple: dict[str, _Form] = {
        "today": _Form("offset", days=0),
        "tomorrow": _Form("offset", days=1),
        "yesterday": _Form("offset", days=-1),
        "next week": _Form("next_week"),
        "eow": _Form("eow"),
        "end of week": _Form("eow"),
        "end of the week": _Form("eow"),
        "end of this week": _Form("eow"),
        "eom": _Form("eom"),
        "end of month": _Form("eom"),
        "end of the month": _Form("eom"),
        "end of this month": _Form("eom"),
    }
    if words in simple:
        return simple[words]
    if words in _WEEKDAY_NAMES:
        return _Form("weekday", weekday=_WEEKDAY_NAMES[words])
    first, _, last = words.partition(" ")
    if first in {"next", "last"} and last in _WEEKDAY_NAMES:
        kind: FormKind = "next_weekday" if first == "next" else "last_weekday"
        return _Form(kind, weekday=_WEEKDAY_NAMES[last])
    if iso := _ISO.fullmatch(words):
        year, month, day = (int(part) for part in iso.groups())
        try:
            return _Form("iso", iso=datetime.date(year, month, day))
        except ValueError:
            raise InvalidInput(f"{quote_input(text)} is not a real date. Use {forms}.") from None
    for pattern, month_group, day_group in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        named = pattern.fullmatch(words)
        if named is None:
            continue
        form = _month_day(named.group(month_group), named.group(day_group), text, forms)
        if form is not None:
            return form
    if (offset := _OFFSET.fullmatch(words)) or (offset := _AGO.fullmatch(words)):
        digits, unit = offset.groups()
        per_unit, limit = (1, MAX_DAYS_AHEAD) if unit.startswith("day") else (7, _MAX_WEEKS_AHEAD)
        count = _count(digits)
        if not 1 <= count <= limit:
            raise InvalidInput(
                f"In {quote_input(text)} the number must be from 1 to {limit} "
                f"{'days' if per_unit == 1 else 'weeks'}. Use {forms}."
            )
        sign = -1 if words.endswith(" ago") else 1
        return _Form("offset", days=sign * count * per_unit)
    raise _unreadable(text, forms)


def parse_date(text: str, *, today: datetime.date) -> datetime.date:
    """The date ``text`` names, counted from ``today`` (the typing person's local date).

    Raises ``InvalidInput`` for anything unreadable and for calendar dates before ``today``.
    """
    form = _read_form(text)
    try:
        resolved = form.resolve(today)
    except OverflowError:
        raise InvalidInput(f"{quote_input(text)} is too far in the future.") from None
    if resolved < today:
        raise InvalidInput(
            f"{quote_input(text)} is in the past; give today or a later date "
            f"({ACCEPTED_DATE_FORMS})."
        )
    return resolved


def parse_past_date(text: str, *, today: datetime.date) -> datetime.date:
    """The day ``text`` names for something that already happened, on or before ``today``.

    A weekday is the last one before today and "dec 15" the last 15 December up to today;
    a date after ``today`` is refused with the forms that work.
    """
    form = _read_form(text, forms=PAST_DATE_FORMS)
    if form.kind in {"next_weekday", "next_week", "eow", "eom"}:
        raise InvalidInput(
            f"{quote_input(text)} is in the future; give the day it happened ({PAST_DATE_FORMS})."
        )
    try:
        resolved = form.resolve_past(today)
    except OverflowError:
        raise InvalidInput(f"{quote_input(text)} is too far back.") from None
    if resolved > today:
        raise InvalidInput(
            f"{quote_input(text)} is in the future; give the day it happened ({PAST_DATE_FORMS})."
        )
    return resolved


def check_date_form(text: str) -> None:
    """Raise the ``InvalidInput`` that ``parse_date`` would for the form of ``text``.

    Lets a command parser reject a malformed date before anything is done, without knowing
    the person's timezone. Forms that always name a past day ("yesterday", "last friday",
    "3 days ago") are refused here too; whether a calendar date is past is left to
    ``parse_date``.
    """
    form = _read_form(text)
    if form.kind == "last_weekday" or (form.kind == "offset" and form.days < 0):
        raise InvalidInput(
            f"{quote_input(text)} is in the past; give today or a later date "
            f"({ACCEPTED_DATE_FORMS})."
        )


def looks_like_date(text: str) -> bool:
    """Whether ``text`` has a form ``parse_date`` reads, whatever today is."""
    try:
        _read_form(text)
    except InvalidInput:
        return False
    return True


def seems_meant_as_date(text: str) -> bool:
    """Whether ``text`` was probably meant as a date, even if it is not a readable one.

    Used after a trailing "by" (and "on" in ``/meeting log``): "by tomorow", "by 31 feb" or
    "by 2026-13-45" should be refused with the date forms, while "by committee" is just part
    of a title. Errs towards "not a date", because refusing ordinary prose is worse than
    leaving a typo in a title.
    """
    if looks_like_date(text):
        return True
    words = _normalise(text).rstrip(".!,").split()
    if not words:
        return False
    if _STRICT_ISO_START.match(words[0]):
        return True
    if len(words) == 1:
        word = words[0]
        if _DIGIT_DATE_SHAPE.fullmatch(word):
            return True
        return len(word) >= 3 and bool(
            difflib.get_close_matches(word, _FUZZY_KEYWORDS, n=1, cutoff=0.8)
        )
    if len(words) == 2 and any(word in _MONTH_NAMES for word in words):
        return any(re.fullmatch(_DAY, word, re.ASCII) for word in words)
    if words[0] == "in" and len(words) <= 3:
        return any(_UNIT_WORD.fullmatch(word) for word in words[1:])
    if words[:2] == ["end", "of"] and len(words) <= 4:
        return words[-1] in _END_WORDS
    return words[0] in {"next", "last"} and len(words) == 2 and words[1] in _NEXT_WORDS


_TIME = re.compile(r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.ASCII)
TIME_FORMS: Final = "14:30, 9:15, 9am or 2:30pm"


def parse_time(text: str) -> datetime.time:
    """A wall-clock time as people type it ("14:30", "9am", "2:30pm", "noon")."""
    words = _normalise(text)
    if words == "noon":
        return datetime.time(12, 0)
    match = _TIME.fullmatch(words)
    if match is None or (match.group(2) is None and match.group(3) is None and len(words) > 2):
        raise InvalidInput(f"I couldn't read {quote_input(text)} as a time. Use {TIME_FORMS}.")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise InvalidInput(f"{quote_input(text)} is not a real time. Use {TIME_FORMS}.")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidInput(f"{quote_input(text)} is not a real time. Use {TIME_FORMS}.")
    return datetime.time(hour, minute)


def check_past_date_form(text: str) -> None:
    """Raise the ``InvalidInput`` that ``parse_past_date`` would for the form of ``text``."""
    form = _read_form(text, forms=PAST_DATE_FORMS)
    if form.kind in {"next_weekday", "next_week", "eow", "eom"}:
        raise InvalidInput(
            f"{quote_input(text)} is in the future; give the day it happened ({PAST_DATE_FORMS})."
        )
