"""Settling delivery outcomes in batches (moved out of ``bot/slack/sender.py``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database

log = logging.getLogger(__name__)
Settlement = Callable[[AsyncSession], Awaitable[Any]]


class Settler:
    """Writes what happened to rows in batches: one transaction for many rows, not one each.

    A transaction costs far more than the UPDATE inside it (on SQLite, several hand-offs to the
    driver's thread), and a busy sender settles hundreds of rows a second. Each caller still
    waits until its own row's outcome is committed, so a row's task ends only once its outcome
    is durable; a batch waits at most ``interval`` for company.
    """

    def __init__(self, db: Database, *, interval: float = 0.02) -> None:
        self._db = db
        self._interval = interval
        self._waiting: list[tuple[Settlement, asyncio.Future[Any]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def settle(self, settlement: Settlement) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((settlement, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(self._interval)
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self._db.transaction() as session:
                    results = [await settlement(session) for settlement, _ in batch]
            except Exception as exc:
                # Nothing of the batch was written. Each row is tried again on its own, so one
                # bad row or a passing blip fails only the rows it really concerns.
                log.warning("a batch of %d settlements failed (%s); settling each", len(batch), exc)
                for settlement, future in batch:
                    await self._settle_alone(settlement, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _settle_alone(self, settlement: Settlement, future: asyncio.Future[Any]) -> None:
        try:
            async with self._db.transaction() as session:
                result = await settlement(session)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)
