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
    "YYYY-MM-DD, today, tomorrow, a weekday (friday), in N days, in N weeks, next week or eow"
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
_FRIDAY: Final = 4

# re.ASCII keeps digits to 0-9: int() would happily read Arabic-Indic digits, but nobody
# means a due date with them and accepting them would make looks_like_date surprising.
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.ASCII)
_OFFSET = re.compile(r"in ([0-9]+) (day|days|week|weeks)", re.ASCII)
_DIGIT_DATE_SHAPE = re.compile(r"[0-9]{1,4}(?:[-/.][0-9]{1,4}){1,2}", re.ASCII)
_STRICT_ISO_START = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\b", re.ASCII)
_UNIT_WORD = re.compile(r"(?:[0-9]+|days?|weeks?|months?|years?|hours?)", re.ASCII)
_NEXT_WORDS: Final = frozenset({"day", "week", "weeks", "month", "year", *_WEEKDAY_NAMES})
_FUZZY_KEYWORDS: Final = (
    "today",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


@dataclass(frozen=True)
class _Form:
    """A date form recognised without knowing today; ``resolve`` turns it into a date."""

    kind: Literal["iso", "offset", "weekday", "next_week", "eow"]
    days: int = 0
    weekday: int = 0
    iso: datetime.date | None = None

    def resolve(self, today: datetime.date) -> datetime.date:
        if self.kind == "iso":
            assert self.iso is not None
            return self.iso
        if self.kind == "offset":
            return today + datetime.timedelta(days=self.days)
        if self.kind == "weekday":
            # "friday" on a Friday means the next one: nobody types today's weekday for today.
            ahead = (self.weekday - today.weekday()) % 7 or 7
            return today + datetime.timedelta(days=ahead)
        if self.kind == "next_week":
            return today + datetime.timedelta(days=7 - today.weekday())
        # eow: on a weekend the week's Friday is gone, so the coming one is meant.
        return today + datetime.timedelta(days=(_FRIDAY - today.weekday()) % 7)


def quote_input(text: str) -> str:
    """``text`` made safe and short enough to quote back inside an error message."""
    cleaned = " ".join(re.sub(r"[<>&]", "", text).split())
    if len(cleaned) > _QUOTE_LIMIT:
        cleaned = cleaned[: _QUOTE_LIMIT - 1].rstrip() + "…"
    return f"“{cleaned}”"


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _unreadable(text: str) -> InvalidInput:
    return InvalidInput(
        f"I couldn't read {quote_input(text)} as a date. Use {ACCEPTED_DATE_FORMS}."
    )


def _read_form(text: str) -> _Form:
    words = _normalise(text)
    if not words:
        raise InvalidInput(f"Please give a date. Use {ACCEPTED_DATE_FORMS}.")
    if words == "today":
        return _Form("offset", days=0)
    if words == "tomorrow":
        return _Form("offset", days=1)
    if words == "next week":
        return _Form("next_week")
    if words == "eow":
        return _Form("eow")
    if words in _WEEKDAY_NAMES:
        return _Form("weekday", weekday=_WEEKDAY_NAMES[words])
    if iso := _ISO.fullmatch(words):
        year, month, day = (int(part) for part in iso.groups())
        try:
            return _Form("iso", iso=datetime.date(year, month, day))
        except ValueError:
            raise InvalidInput(
                f"{quote_input(text)} is not a real date. Use {ACCEPTED_DATE_FORMS}."
            ) from None
    if offset := _OFFSET.fullmatch(words):
        digits, unit = offset.groups()
        per_unit, limit = (1, MAX_DAYS_AHEAD) if unit.startswith("day") else (7, _MAX_WEEKS_AHEAD)
        # Check the length before int(): a 5000-digit number would make int() itself refuse.
        count = int(digits) if len(digits) <= 6 else limit + 1
        if not 1 <= count <= limit:
            raise InvalidInput(
                f"In {quote_input(text)} the number must be from 1 to {limit} "
                f"{'days' if per_unit == 1 else 'weeks'}. Use {ACCEPTED_DATE_FORMS}."
            )
        return _Form("offset", days=count * per_unit)
    raise _unreadable(text)


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


def check_date_form(text: str) -> None:
    """Raise the ``InvalidInput`` that ``parse_date`` would for the form of ``text``.

    Lets a command parser reject a malformed date before anything is done, without knowing
    the person's timezone; whether the date is in the past is left to ``parse_date``.
    """
    _read_form(text)


def looks_like_date(text: str) -> bool:
    """Whether ``text`` has a form ``parse_date`` accepts, whatever today is."""
    try:
        _read_form(text)
    except InvalidInput:
        return False
    return True


def seems_meant_as_date(text: str) -> bool:
    """Whether ``text`` was probably meant as a date, even if it is not a readable one.

    Used after a trailing "by": "by tomorow" or "by 2026-13-45" should be refused with the
    date forms, while "by committee" is just part of a title. Errs towards "not a date",
    because refusing ordinary prose is worse than leaving a typo in a title.
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
    if words[0] == "in" and len(words) <= 3:
        return any(_UNIT_WORD.fullmatch(word) for word in words[1:])
    return words[0] == "next" and len(words) == 2 and words[1] in _NEXT_WORDS
