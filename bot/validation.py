"""Limits on user text, shared by the command parsers, the modals and the services."""

from __future__ import annotations

from bot.errors import InvalidInput

TITLE_MAX = 200
TEXT_MAX = 2000


def one_line(value: str) -> str:
    """``value`` with every run of whitespace, line breaks of any kind included, as one space.

    Titles are one line wherever they are shown, so a title typed (or pasted) over several lines
    can never draw a line of its own under the app's.
    """
    return " ".join(value.split())


def clean_text(
    value: str | None,
    *,
    what: str,
    limit: int,
    required: bool = True,
    single_line: bool = False,
) -> str | None:
    """Trim ``value`` and check it against ``limit``; the error names the field and the numbers.

    ``single_line`` folds line breaks and runs of spaces into single spaces first (titles).
    """
    text = one_line(value or "") if single_line else (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(code="text.empty", what=what)
        return None
    if len(text) > limit:
        raise InvalidInput(code="text.too_long", what=what, length=len(text), limit=limit)
    return text


def require_text(value: str | None, *, what: str, limit: int, single_line: bool = False) -> str:
    text = clean_text(value, what=what, limit=limit, required=True, single_line=single_line)
    assert text is not None
    return text
