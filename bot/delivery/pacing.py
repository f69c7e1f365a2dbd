"""Slack's posting limits as every sender keeps to them, and the in-process `Pacer`.

Moved out of ``bot/slack/sender.py``: nothing here calls Slack, so the delivery engine can use it
without the Slack layer.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.delivery import ledger
from bot.settings import Settings
from bot.workspace import WorkspaceKey


@dataclass(frozen=True, slots=True)
class Pacing:
    """Slack's limits for posting, as every sender keeps to them.

    ``chat.postMessage`` allows about one message per second per channel (short bursts pass)
    and "several hundred" per minute per workspace. The window is a second longer than Slack's
    minute so that requests arriving later than they were sent still fit Slack's count.
    ``workspace_per_minute`` is the budget per window (tests shrink the window with it).

    The ledger's claim keeps all senders, in any number of processes, to these limits
    (`Pacing.limits`, `bot.delivery.ledger.claim`); the `Pacer` keeps to them within this
    process between the claim and the post.
    """

    channel_interval: float = 1.0
    workspace_per_minute: int = 300
    window_seconds: float = 61.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Pacing:
        return cls(
            channel_interval=settings.slack_channel_interval_seconds,
            workspace_per_minute=settings.slack_workspace_posts_per_window,
            window_seconds=settings.slack_workspace_window_seconds,
        )

    @property
    def workspace_in_flight(self) -> int:
        """Rows one workspace may have claimed at once: about three seconds of its budget."""
        return max(2, math.ceil(self.workspace_per_minute / max(self.window_seconds - 1, 1) * 3))

    @property
    def limits(self) -> ledger.Limits:
        """The same limits for the ledger's claim, which keeps every sender to them together."""
        return ledger.Limits(
            channel_interval=timedelta(seconds=self.channel_interval),
            workspace_budget=self.workspace_per_minute,
            window=timedelta(seconds=self.window_seconds),
        )


class Pacer:
    """When the next post to a channel, and from a workspace, may go out."""

    def __init__(self, pacing: Pacing, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.pacing = pacing
        self._monotonic = monotonic
        self._channel_next: dict[tuple[WorkspaceKey, str], float] = {}
        self._workspace_sent: dict[WorkspaceKey, collections.deque[float]] = {}
        self._workspace_next: dict[WorkspaceKey, float] = {}

    def delay(self, ws: WorkspaceKey, channel: str) -> float:
        """Seconds until a post to ``channel`` in ``ws`` keeps within both limits (0: now)."""
        now = self._monotonic()
        wait = max(
            self._channel_next.get((ws, channel), 0.0) - now,
            self._workspace_next.get(ws, 0.0) - now,
        )
        sent = self._workspace_sent.get(ws)
        if sent is not None:
            while sent and sent[0] <= now - self.pacing.window_seconds:
                sent.popleft()
            if len(sent) >= self.pacing.workspace_per_minute:
                wait = max(wait, sent[0] + self.pacing.window_seconds - now)
        return max(0.0, wait)

    def take(self, ws: WorkspaceKey, channel: str) -> None:
        now = self._monotonic()
        self._channel_next[(ws, channel)] = now + self.pacing.channel_interval
        self._workspace_sent.setdefault(ws, collections.deque()).append(now)
        if len(self._channel_next) > 100_000:
            self._forget_idle(now)

    def hold(
        self, ws: WorkspaceKey, channel: str, seconds: float, *, whole_workspace: bool
    ) -> None:
        """Slack said 429: nothing more to this channel (or workspace) for ``seconds``."""
        until = self._monotonic() + seconds
        key = (ws, channel)
        self._channel_next[key] = max(self._channel_next.get(key, 0.0), until)
        if whole_workspace:
            self._workspace_next[ws] = max(self._workspace_next.get(ws, 0.0), until)

    def _forget_idle(self, now: float) -> None:
        self._channel_next = {k: v for k, v in self._channel_next.items() if v > now}
