"""Things that may be used only once, remembered across processes: a signed Slack request, an
OAuth state.

A captured request signed by Slack stays valid for its five-minute window, and an OAuth
``state`` for its ten minutes; whoever holds one could send it again. Each use is recorded here
under a unique key, in the database every process shares, until the thing itself has expired;
a second use of the same key finds the row and is refused. Rows past their expiry are deleted
as new ones are written (at most once a minute per process), so the table holds only what is
still within its window. A row is never kept for less time than the thing it records stays
valid, so a key whose old row is expired but not yet swept names something already expired.

The hot path (every Slack request) pays one shared transaction per burst, not one per request:
marks arriving together go through one ``GroupCommit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, Database, UTCDateTime, dialect_insert
from bot.group_commit import GroupCommit

# Expired rows are deleted at most this often (seconds) by each process.
SWEEP_EVERY = 60.0


class UsedOnce(Base):
    """One use of something single-use; ``key`` names it (``request:<signature>``, …).

    Not a workspace's row: a request is recorded before anyone knows which workspace sent it.
    """

    __tablename__ = "used_once"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True, slots=True)
class _Mark:
    key: str
    expires_at: datetime


class OnceLedger:
    """``first_use(key, …)`` is True the first time a key is seen within its lifetime."""

    def __init__(self, db: Database, *, wall_clock: Callable[[], float] = time.time) -> None:
        # Request signatures are judged by the wall clock (as Slack's timestamps are), never by
        # the app's business clock, which tests and the sandbox may set to any day.
        self._wall_clock = wall_clock
        self._next_sweep = 0.0
        self._marks: GroupCommit[_Mark, bool] = GroupCommit(db, self._store)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall_clock(), UTC)

    async def first_use(self, key: str, *, expires_at: datetime) -> bool:
        return await self._marks.run(_Mark(key=key, expires_at=expires_at))

    async def _store(self, session: AsyncSession, marks: Sequence[_Mark]) -> list[bool]:
        now = self.now()
        if now.timestamp() >= self._next_sweep:
            self._next_sweep = now.timestamp() + SWEEP_EVERY
            await session.execute(delete(UsedOnce).where(UsedOnce.expires_at < now))
        wanted: dict[str, datetime] = {}
        for mark in marks:
            wanted.setdefault(mark.key, mark.expires_at)
        inserted = await _insert_new(session, wanted)
        answers: list[bool] = []
        for mark in marks:
            # The first of several identical marks in one group is the use; the rest repeat it.
            answers.append(mark.key in inserted)
            inserted.discard(mark.key)
        return answers


async def _insert_new(session: AsyncSession, rows: dict[str, datetime]) -> set[str]:
    """INSERT the keys not present yet (atomically on both engines); the keys this inserted."""
    values = [{"key": key, "expires_at": expires} for key, expires in rows.items()]
    statement = dialect_insert(session)(UsedOnce).values(values).on_conflict_do_nothing()
    result = await session.execute(statement.returning(UsedOnce.key))
    return set(result.scalars())
