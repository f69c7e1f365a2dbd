"""Where a sandbox session's input comes from: the console, and the answers to a form's
fields, a menu's choice or a confirmation (a person at a prompt, or a script's lines)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Cancelled(Exception):
    """The form was closed instead of submitted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Done(Exception):
    """Submit the form now, leaving the remaining fields as they are."""


@dataclass(frozen=True, slots=True)
class FieldPrompt:
    block_id: str
    label: str
    element: Mapping[str, Any]
    optional: bool
    hint: str
    current: str
    choices: str


class Replies(Protocol):
    """Where a form's answers (and a menu's choice, and a confirmation) come from."""

    async def field(self, prompt: FieldPrompt, problem: str | None) -> str | None:
        """The text typed for a field; None keeps it as it is. May raise Cancelled or Done.

        ``problem`` says why the value given last was refused (already shown to the person);
        it is None the first time a field is asked for.
        """
        ...

    async def confirm(self, title: str, question: str, yes: str) -> bool: ...


class Console(Protocol):
    def show(self, text: str) -> None: ...

    async def ask(self, prompt: str) -> str | None:
        """A line typed at ``prompt``; None when input has ended."""
        ...
