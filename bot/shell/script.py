"""Sandbox sessions written down: a script of lines, run without anyone at the keyboard.

A script is what a person would type, one input per line. Lines starting with ``#`` are
comments. A form's fields are given on indented ``key: value`` lines right after the line that
opens the form, where the key is a field's label (``What needs deciding?``) or its block id
(``title``)::

    /decision
      title: Pick a payroll vendor
      owner: ben
      due: 2020-01-01
      due: friday

A field named twice gets its second value only if the app refuses the first, which is how a
script shows a validation error and its correction. An empty value clears a field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.shell.session import Cancelled, Console, FieldPrompt, Shell


class ScriptError(Exception):
    """The script itself is malformed; names the line."""


@dataclass(frozen=True, slots=True)
class FieldLine:
    key: str
    value: str
    line_number: int


@dataclass(slots=True)
class Step:
    line: str
    line_number: int
    fields: list[FieldLine] = field(default_factory=list)


def parse_script(text: str) -> list[Step]:
    steps: list[Step] = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if raw[:1] in (" ", "\t"):
            if not steps:
                raise ScriptError(f"line {number}: a field line comes before any input: {raw!r}")
            key, colon, value = stripped.partition(":")
            if not colon or not key.strip():
                raise ScriptError(
                    f"line {number}: an indented line gives a form field as `key: value`, "
                    f"not {stripped!r}"
                )
            steps[-1].fields.append(FieldLine(key.strip(), value.strip(), number))
            continue
        steps.append(Step(stripped, number))
    return steps


def field_key(text: str) -> str:
    """A label or key compared loosely: case, spacing and trailing punctuation do not matter."""
    return " ".join(text.lower().replace("…", " ").strip(" .:?!*").split())


class ScriptedReplies:
    """Answers a form's fields from a step's field lines, echoing them into the transcript."""

    def __init__(self, fields: Sequence[FieldLine], console: Console) -> None:
        self.unused = list(fields)
        self.console = console

    def _take(self, prompt: FieldPrompt) -> FieldLine | None:
        keys = {field_key(prompt.block_id), field_key(prompt.label)}
        for line in self.unused:
            if field_key(line.key) in keys:
                self.unused.remove(line)
                return line
        return None

    async def field(self, prompt: FieldPrompt, problem: str | None) -> str | None:
        line = self._take(prompt)
        if line is None:
            if problem is not None:
                # The form closes here, so the rest of its lines have nothing left to fill.
                self.unused.clear()
                raise Cancelled(f"the script gives no other value for {prompt.label!r}")
            return None
        self.console.show(f"  ✎ {prompt.label}: {line.value}")
        return line.value or "-"

    async def confirm(self, title: str, question: str, yes: str) -> bool:
        self.console.show(f"  ({title} {question} → {yes})")
        return True


async def run_script(shell: Shell, text: str) -> int:
    """Run every step, showing each input after the prompt; returns the problems met."""
    steps = parse_script(text)
    before = len(shell.problems)
    for step in steps:
        shell.console.show(f"{shell.prompt}{step.line}")
        replies = ScriptedReplies(step.fields, shell.console)
        if not await shell.handle(step.line, replies):
            break
        for unused in replies.unused:
            shell.problem(
                f"line {unused.line_number}: no form field {unused.key!r} was asked for here"
            )
    return len(shell.problems) - before
