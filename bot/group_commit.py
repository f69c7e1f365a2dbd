"""Group commit: writes that arrive together are stored together, in one transaction.

When fifty people record decisions in the same second, committing each on its own costs fifty
transactions that queue for SQLite's one write lock (or for PostgreSQL's counter row). A
``GroupCommit`` hands every caller's item to one writer task instead; the writer takes whatever
has queued up, stores it with one call to ``work`` inside one transaction, and then answers each
caller. While that transaction runs, new callers queue for the next one, so a lone request
waits for nothing and a burst shares the cost.

Every caller still gets its answer only after the commit, so an acknowledgement that names a
``D-<n>`` is never ahead of the row. If a shared transaction fails, each item is tried again in
a transaction of its own, so one bad item cannot fail the others and each caller gets its own
error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Work = Callable[[AsyncSession, Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, db: Database, work: Work[T, R], *, max_batch: int = 100) -> None:
        self._db = db
        self._work = work
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, item: T) -> R:
        """Store ``item``, in a transaction shared with concurrent callers; return its result."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        return await future

    async def _write(self) -> None:
        group: list[tuple[T, asyncio.Future[R]]] = []
        try:
            # One turn of the loop lets requests already parsed join the first group.
            await asyncio.sleep(0)
            while self._pending:
                group = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._store(group)
                group = []
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for _item, future in [*group, *self._pending]:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            self._pending.clear()
            raise

    async def _store(self, group: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            async with self._db.transaction() as session:
                results = await self._work(session, [item for item, _ in group])
        except Exception as exc:
            if len(group) == 1:
                if not group[0][1].done():
                    group[0][1].set_exception(exc)
                return
            log.warning("a group of %d writes failed (%r); storing each alone", len(group), exc)
            for one in group:
                await self._store([one])
            return
        for (_item, future), result in zip(group, results, strict=True):
            if not future.done():  # a caller that went away still has its item stored
                future.set_result(result)
