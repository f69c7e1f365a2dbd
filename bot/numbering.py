"""Per-workspace reference numbers (D-<n>, M-<n>, A-<n>) that count up from 1 and are never reused.

A counter row per (workspace, series) is bumped with one UPDATE … RETURNING inside the caller's
transaction: the row lock (PostgreSQL) or the single write lock (SQLite) serialises concurrent
creators, and a rolled-back creation gives its number back because the bump rolls back too.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, insert_if_absent
from bot.workspace import WorkspaceKey, WorkspaceScoped


class Counter(WorkspaceScoped, Base):
    __tablename__ = "counters"

    enterprise_id: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


async def next_number(session: AsyncSession, *, ws: WorkspaceKey, series: str) -> int:
    return await next_numbers(session, ws=ws, series=series, count=1)


async def next_numbers(session: AsyncSession, *, ws: WorkspaceKey, series: str, count: int) -> int:
    """Take ``count`` consecutive numbers in one statement; returns the first of them."""
    if count < 1:
        raise ValueError("count must be at least 1")
    bump = (
        update(Counter)
        .where(Counter.in_workspace(ws), Counter.series == series)
        .values(value=Counter.value + count)
        .returning(Counter.value)
        # No Counter objects live in sessions; skip the ORM's in-memory synchronisation.
        .execution_options(synchronize_session=False)
    )
    value = (await session.execute(bump)).scalar_one_or_none()
    if value is None:
        await insert_if_absent(
            session, Counter, {**Counter.key_values(ws), "series": series, "value": 0}
        )
        value = (await session.execute(bump)).scalar_one()
    return int(value) - count + 1
