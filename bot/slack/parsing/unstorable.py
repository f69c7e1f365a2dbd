"""Characters no database here can store, found anywhere in a request before anything acts.

PostgreSQL refuses a NUL (``\\x00``) in text and neither engine's driver can encode half of a
UTF-16 surrogate pair (a "lone surrogate", which JSON's ``\\ud83d`` escapes can produce). They
are refused at the edge, with the same friendly answer on both engines, instead of failing deep
inside a transaction. Nothing is stripped silently: what the person typed is what is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_TEXT = (
    "That text contains a character Followthrough cannot store: an invisible NUL control code "
    "or half of an emoji, usually from a copy and paste. Please type it again without it; "
    "nothing was changed."
)


@dataclass(frozen=True, slots=True)
class Unstorable:
    """Where the first unstorable character was: the keys (and list positions) leading to it."""

    path: tuple[str | int, ...]

    @property
    def view_block(self) -> str | None:
        """The modal input block it was typed into, when it was one (view.state.values.<block>)."""
        if len(self.path) > 3 and self.path[:3] == ("view", "state", "values"):
            return str(self.path[3])
        return None


def find_unstorable(payload: Any) -> Unstorable | None:
    """The first string (or dict key) in ``payload`` holding a NUL or a lone surrogate.

    Walks with a stack rather than recursion: a signed payload may still nest deeply.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), payload)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return Unstorable(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return Unstorable((*path, key))
                stack.append(((*path, str(key)), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
    return None
