"""What a sandbox session knows: who is typing where, what was shown and can be pressed,
which forms are open; and the few things every part of the session does with it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.shell.render import Control, Rendering
from bot.shell.replies import Console
from bot.shell.sandbox import Observer, Sandbox
from bot.shell.world import Person, World

JsonDict = dict[str, Any]


@dataclass(slots=True)
class Pressable:
    """A rendered surface with numbered controls, and what a press on it must tell the app."""

    rendering: Rendering
    kind: str  # "message", "ephemeral", "modal" or "home"
    where: str
    channel: str | None = None
    ts: str | None = None
    message: JsonDict | None = None
    view: JsonDict | None = None
    audience: str | None = None  # the one person who sees it; None: whoever sees the channel

    @property
    def controls(self) -> list[Control]:
        return self.rendering.controls

    @property
    def text(self) -> str:
        return self.rendering.text


@dataclass(frozen=True, slots=True)
class Said:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where a request's response_url leads: who acted, in which channel, on which message."""

    channel: str | None
    user: str
    origin_ts: str | None = None


class ShellState:
    """The session's state (``Shell`` sets it up) and the helpers all its parts share."""

    sandbox: Sandbox
    console: Console
    save_clock: Callable[[datetime], None] | None
    user: Person
    channel: str
    problems: list[str]
    world: World
    observer: Observer
    pressables: list[Pressable]
    modals: list[JsonDict]
    timeline: list[Said]
    reply_to: dict[str, ReplyTo]
    _said: itertools.count[int]

    def note(self, text: str) -> None:
        self.console.show(f"  {text}")

    def problem(self, text: str) -> None:
        """Something the person (or script) asked for could not be done."""
        self.problems.append(text)
        self.console.show(f"  ! {text}")

    def where(self, channel: str | None = None) -> str:
        return self.world.where(channel or self.channel)

    def _next_ts(self) -> str:
        """A message timestamp for what the pretend Slack does not number itself."""
        return f"{int(self.sandbox.clock.now().timestamp())}.{next(self._said):06d}"

    def _only(self, user: str, channel: str | None) -> str:
        who = "you" if user == self.user.id else (self.world.user_name(user) or user)
        if channel is None or channel == self.channel:
            return f"only {who}"
        return f"only {who}, in {self.where(channel)}"
