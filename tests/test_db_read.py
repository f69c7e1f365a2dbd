"""``Database.read()``: the read-only unit of work searches use (bot/db.py).

On SQLite it is a pool of its own beside the one writing connection, so these tests need real
commits and a second connection (``commits``): a read must see what was committed, refuse to
write, and go on while a writer holds the write lock (WAL), where the writer's one connection
would have made it wait.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.db import Database
from bot.decisions.search import parse_query, search_decisions
from tests.test_search import T1, make

pytestmark = pytest.mark.commits


async def titles(db: Database, words: str) -> list[str]:
    async with db.read() as session:
        page = await search_decisions(session, ws=T1, query=parse_query(words))
    return [d.title for d in page.decisions]


async def test_a_read_sees_committed_decisions_and_searches_them(db: Database) -> None:
    await make(db, T1, "Pick a payroll vendor", "Move the office")
    assert await titles(db, "payroll") == ["Pick a payroll vendor"]


async def test_a_read_cannot_write_on_sqlite(db: Database) -> None:
    if not db.is_sqlite:
        # PostgreSQL reads share the ordinary pool (its MVCC readers never wait for writers).
        assert db.read_engine is None
        return
    with pytest.raises(OperationalError, match="readonly"):
        async with db.read() as session:
            await session.execute(text("DELETE FROM decisions"))


async def test_reads_go_on_while_a_writer_holds_the_lock(db: Database) -> None:
    await make(db, T1, "Pick a payroll vendor")
    writing, read_done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as session:
            await session.execute(text("UPDATE decisions SET title = 'Renamed payroll'"))
            writing.set()
            # Held open until the reads are done: a read queued behind this unit would never be.
            await read_done.wait()

    task = asyncio.create_task(writer())
    await writing.wait()
    try:
        # Several at once, as a busy channel would: each on the committed snapshot, and none
        # waits for the writer's open transaction (the guard only turns a hang into a failure).
        seen = await asyncio.wait_for(
            asyncio.gather(*(titles(db, "payroll") for _ in range(6))), timeout=30
        )
    finally:
        read_done.set()
        await task
    assert seen == [["Pick a payroll vendor"]] * 6
    assert await titles(db, "payroll") == ["Renamed payroll"]
