"""Domain errors: what went wrong, as a code and the facts, so that it can be worded for the
person who typed, wherever they typed it.

A converted error carries ``code`` (``"decision.not_found"``) and its facts as plain values
(``number=12``); the Slack layer words it, in one place (``bot/slack/wording.py``), and the
shell and the CLI can word the same error their own way. Domain code never writes Slack
markup or command syntax into an error, and never talks to Slack itself; every domain package
raises codes. An error made from a message alone (``UserError("…")``) is shown as it is: the
Slack layer's own refusals (a command that does not parse) are already in its words.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A request that cannot be carried out as asked.

    ``UserError(code="decision.not_found", number=12)``: ``code`` names the refusal and
    ``facts`` are what the words need. ``UserError("…")``: a message shown as it is.
    ``message`` is the message given, or else the code (for logs; people get the wording).
    """

    def __init__(self, message: str = "", /, *, code: str = "", **facts: Any) -> None:
        if not message and not code:
            raise ValueError("a UserError has a message or a code")
        self.code = code
        self.facts: dict[str, Any] = facts
        self.message = message or code
        super().__init__(self.message)


class InvalidInput(UserError):
    """The words or values given do not fit the grammar or the rules."""


class NotFound(UserError):
    """The thing named does not exist in this workspace."""


class Forbidden(UserError):
    """The person may not do this."""


class Conflict(UserError):
    """The request clashes with the current state (a meeting already open, a decision closed)."""
