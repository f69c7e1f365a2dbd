"""Work that may come after the acknowledgement (channel posts), run one piece at a time.

A burst of commands should be acknowledged before their follow-ups compete for the process and
the database: each command's record is already committed and its reference already in the ack,
so its card can wait a moment. One consumer task per process works through the queue in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FollowUp = Callable[[], Awaitable[None]]


class FollowUps:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[FollowUp] | None = None
        self._worker: asyncio.Task[None] | None = None

    def submit(self, work: FollowUp) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(self._queue), name="follow-ups")
        self._queue.put_nowait(work)

    async def _run(self, queue: asyncio.Queue[FollowUp]) -> None:
        while True:
            work = await queue.get()
            try:
                await work()
            except Exception:
                log.exception("a follow-up after an acknowledgement failed")
            finally:
                queue.task_done()

    async def drain(self) -> None:
        """Wait until everything submitted so far has run (tests, the shell, shutdown)."""
        if self._queue is not None:
            await self._queue.join()
