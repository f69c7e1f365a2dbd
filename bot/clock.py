"""Where "now" comes from. Logic receives ``now`` as an argument; only the edges read a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: tests and the local sandbox use it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


class RunningClock(ManualClock):
    """A sandbox clock that moves with real time too: ``start + (monotonic() - t0) + advanced``.

    ``set`` and ``advance`` move it as a `ManualClock` does; real time keeps running from there.
    ``monotonic`` is the source of real seconds (tests give their own).
    """

    def __init__(self, start: datetime, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(start)
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self._now + timedelta(seconds=self._monotonic() - self._t0)

    def set(self, moment: datetime) -> None:
        super().set(moment)
        self._t0 = self._monotonic()

    def advance(self, delta: timedelta) -> datetime:
        self.set(self.now() + delta)
        return self._now
