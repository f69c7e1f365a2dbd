"""Work that may come after the acknowledgement (channel posts), run one piece at a time.

Slack waits three seconds for an acknowledgement; a channel card can wait a moment longer. So
acknowledgements come first: the web layer marks each Slack request in flight with
``acknowledging()``, and the single consumer here starts the next follow-up only once no request
is in flight, or once ``max_delay`` has passed, so steady traffic cannot hold a card back for
long. Each command's record is committed and its reference is in the ack before its follow-up is
queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

FollowUp = Callable[[], Awaitable[None]]


class FollowUps:
    def __init__(self, *, max_delay: float = 2.0, settle: float = 0.02) -> None:
        self.max_delay = max_delay
        self.settle = settle
        self._queue: asyncio.Queue[FollowUp] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._last_request = 0.0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def submit(self, work: FollowUp) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(self._queue), name="follow-ups")
        self._queue.put_nowait(work)

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Mark one incoming Slack request as waiting for its acknowledgement."""
        self._in_flight += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._last_request = time.monotonic()
            if self._in_flight == 0:
                self._quiet.set()

    async def _until_quiet(self) -> None:
        """Return once no request has been in flight for ``settle`` seconds, or at the deadline."""
        deadline = time.monotonic() + self.max_delay
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if self._in_flight:
                try:
                    await asyncio.wait_for(self._quiet.wait(), deadline - now)
                except TimeoutError:
                    return
                continue
            # Requests of one burst arrive a little apart: wait until the lull is real.
            lull = now - self._last_request
            if lull >= self.settle:
                return
            await asyncio.sleep(min(self.settle - lull, deadline - now))

    async def _run(self, queue: asyncio.Queue[FollowUp]) -> None:
        while True:
            work = await queue.get()
            try:
                await self._until_quiet()
                await work()
            except Exception:
                log.exception("a follow-up after an acknowledgement failed")
            finally:
                queue.task_done()

    async def close(self) -> None:
        """Stop the consumer (once drained, on shutdown): a task left waiting on its queue
        would be destroyed pending with its loop."""
        worker, self._worker = self._worker, None
        if worker is not None and not worker.done():
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def drain(self) -> None:
        """Wait until everything submitted so far has run (tests, the shell, shutdown)."""
        if self._queue is not None:
            await self._queue.join()
