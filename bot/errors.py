"""Domain errors: what went wrong, said so that the person who typed can put it right.

The Slack layer turns every ``UserError`` into one ephemeral message; anything else is a bug
and is logged. Domain code raises these and never talks to Slack itself.
"""


class UserError(Exception):
    """A request that cannot be carried out as asked; ``message`` is shown to the user as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(UserError):
    """The words or values given do not fit the grammar or the rules."""


class NotFound(UserError):
    """The thing named does not exist in this workspace."""


class Forbidden(UserError):
    """The person may not do this."""


class Conflict(UserError):
    """The request clashes with the current state (a meeting already open, a decision closed)."""
