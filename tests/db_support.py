"""Each database test inside one transaction that is rolled back afterwards (a savepoint per unit).

The ``db`` fixture (tests/conftest.py) opens one connection per test, begins a transaction on it
and binds the test's `TestDatabase` to it: every ``db.transaction()`` is then a SAVEPOINT on that
connection (SQLAlchemy's ``join_transaction_mode="create_savepoint"``), committed by releasing it
and rolled back to it on error, exactly as a transaction of its own would be; ``db.engine``'s
``connect()`` and ``begin()`` are savepoints on it too. When the test ends the outer transaction
is rolled back, which empties every table far faster than deleting or truncating them.

Units of work on the one connection never interleave: each holds a lock (re-entered by a nested
unit of the same task) as SQLite's single pooled connection already makes them queue in
production. A test whose point is several connections — a second engine or process on the same
database (the worker's own `Database`, ``bot.server.main``), or transactions racing each other —
needs real commits: mark it ``@pytest.mark.commits`` and it gets the tables emptied instead.
Without the mark, any other connection to the test database fails the test and says so, so a
test can never pass only because the other connection did not see uncommitted rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db import Database

#: How long a unit of work waits for the one connection before the test is told it needs real
#: connections (``commits``): long enough for any honest unit, short enough to beat a hang.
LOCK_WAIT = 20.0

NEEDS_COMMITS = (
    "this test opened another connection to its database ({what}), which cannot see the "
    "test's uncommitted rows; mark it @pytest.mark.commits so it runs with real commits"
)


class _TaskLock:
    """An asyncio lock the task holding it may take again (a unit nested in its own unit)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        me = asyncio.current_task()
        if self._owner is me and me is not None:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            await asyncio.wait_for(self._lock.acquire(), LOCK_WAIT)
        except TimeoutError:
            raise AssertionError(
                f"a unit of work waited {LOCK_WAIT:.0f} s for the test's one connection while "
                "another held it; a test whose transactions overlap needs "
                "@pytest.mark.commits"
            ) from None
        self._owner, self._depth = me, 1
        try:
            yield
        finally:
            self._owner, self._depth = None, 0
            self._lock.release()


class _SharedEngine:
    """``db.engine`` while a test is bound: connections are savepoints on the test's one."""

    def __init__(self, engine: AsyncEngine, conn: AsyncConnection, lock: _TaskLock) -> None:
        self._engine = engine
        self._conn = conn
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._lock.held(), self._conn.begin_nested():
            yield self._conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        # What a connection does without committing is undone when it closes.
        async with self._lock.held():
            nested = await self._conn.begin_nested()
            try:
                yield self._conn
            finally:
                if nested.is_active:
                    await nested.rollback()


class TestDatabase(Database):
    """The suite's `Database`: its own engine and pool, or (``bound``) one outer transaction."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, url: str, **kw: Any) -> None:
        super().__init__(url, **kw)
        self._lock: _TaskLock | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        lock, maker = self._lock, self.sessionmaker
        if lock is None:
            async with super().transaction() as session:
                yield session
            return
        # The bound maker, taken before waiting: a unit still waiting when the test ends fails on
        # the closed connection instead of committing for real into the next test.
        async with lock.held(), maker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        # Bound: the test's one connection is the only one that sees its rows (a ``commits``
        # test, unbound, reads through the real read-only pool).
        if self._lock is None:
            async with super().read() as session:
                yield session
            return
        async with self.transaction() as session:
            yield session

    @asynccontextmanager
    async def bound(self) -> AsyncIterator[None]:
        """Everything inside runs in one transaction, rolled back at the end."""
        engine, sessionmaker = self.engine, self.sessionmaker
        async with engine.connect() as conn:
            outer = await conn.begin()  # BEGIN IMMEDIATE on SQLite (bot/db.py): the lock is ours
            if not self.is_sqlite:
                # Sequences are not transactional: start each test's ids at 1 as TRUNCATE ...
                # RESTART IDENTITY did. (SQLite's rowids and sqlite_sequence roll back.)
                await conn.execute(
                    text(
                        "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                    )
                )
            self._lock = _TaskLock()
            self.sessionmaker = async_sessionmaker(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            self.engine = _SharedEngine(engine, conn, self._lock)  # type: ignore[assignment]
            try:
                yield
            finally:
                self.engine, self.sessionmaker, self._lock = engine, sessionmaker, None
                kept = outer.is_active
                await conn.rollback()
            if not kept:
                raise OuterCommitted(
                    "the test ended the transaction every test runs in (a COMMIT on the test's "
                    "connection), so its rows stay; mark it @pytest.mark.commits"
                )


class OuterCommitted(AssertionError):
    """A bound test's own transaction was ended under it: its rows may have been committed."""


def _same_database(a: Any, b: Any) -> bool:
    a, b = make_url(a), make_url(b)
    return (a.get_backend_name(), a.host, a.port, a.database) == (
        b.get_backend_name(),
        b.host,
        b.port,
        b.database,
    )


@contextmanager
def no_other_connections(url: str) -> Iterator[list[str]]:
    """Fail any new connection to ``url``'s database, by any engine, while inside; yield the list
    of those refused (a caller that swallowed the error still has the test failed)."""
    refused: list[str] = []

    def on_connect(conn: Connection) -> None:
        if _same_database(conn.engine.url, url):
            what = f"engine {conn.engine.url.render_as_string(hide_password=True)}"
            refused.append(NEEDS_COMMITS.format(what=what))
            conn.close()
            raise AssertionError(refused[-1])

    event.listen(Engine, "engine_connect", on_connect)
    try:
        yield refused
    finally:
        event.remove(Engine, "engine_connect", on_connect)
