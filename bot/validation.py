"""Limits on user text, shared by the command parsers, the modals and the services."""

from __future__ import annotations

from bot.errors import InvalidInput

TITLE_MAX = 200
TEXT_MAX = 2000


def clean_text(value: str | None, *, what: str, limit: int, required: bool = True) -> str | None:
    """Trim ``value`` and check it against ``limit``; the error names the field and the numbers."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"The {what} is empty. Please write a few words.")
        return None
    if len(text) > limit:
        raise InvalidInput(
            f"The {what} is {len(text)} characters long; the limit is {limit}. "
            "Please shorten it (details can go in a follow-up message)."
        )
    return text


def require_text(value: str | None, *, what: str, limit: int) -> str:
    text = clean_text(value, what=what, limit=limit, required=True)
    assert text is not None
    return text
