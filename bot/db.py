"""Database plumbing shared by every domain: the declarative base, engines and transactions.

SQLite gets one pooled connection, WAL and `BEGIN IMMEDIATE`: it has a single write lock, and
several connections contending for it make tail latency explode, while one connection that
queues work in-process stays fast. Work that only reads (``Database.read()``, e.g. searches) gets
a small pool of its own read-only connections (``PRAGMA query_only``, a deferred ``BEGIN``):
WAL readers take no write lock, so they neither wait for the writer nor make it wait, and
``READ_POOL`` of them run side by side (sqlite3 releases the GIL while a statement runs).
PostgreSQL gets an ordinary pool sized for the web concurrency, for reads and writes alike.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(cls: type[enum.StrEnum], length: int) -> Enum:
    """A column of ``cls``'s values, stored as the plain VARCHAR(``length``) it always was.

    No native enum type and no CHECK constraint, so the schema (and every migration) is the
    one a ``String(length)`` gave; values are the members' strings, refused in Python when they
    are not one of them.
    """
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC on every engine.

    SQLite has no time zones and hands back naive values; this type refuses naive input and
    always returns aware UTC datetimes, so comparisons never mix the two kinds.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def is_in_memory_sqlite(url: str) -> bool:
    return ":memory:" in url or url.rstrip("/").endswith(":")


#: SQLite: how many read-only connections ``Database.read()`` shares (the machine's cores and a
#: little more: a reader waits on its thread, not on the event loop).
READ_POOL = 4


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    if is_sqlite_url(url):
        if is_in_memory_sqlite(url):
            raise ValueError("use a SQLite file: an in-memory database lives in one connection")
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30},
        )
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def create_read_engine(url: str, *, pool_size: int = READ_POOL, echo: bool = False) -> AsyncEngine:
    """SQLite connections that can only read (see the module docstring)."""
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        connect_args={"timeout": 30},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL is a property of the file (a no-op when the writer set it already); without it a
        # reader would block the writer.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Deferred: a read snapshot taken at the first statement, no lock on the writer.
        conn.exec_driver_sql("BEGIN")

    return engine


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a web process and a worker never deadlock
        # upgrading read locks; busy_timeout makes the other one wait instead of failing.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine and its session factory; the caller of ``transaction()`` owns the commit."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, echo=echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine: AsyncEngine | None = None
        self.read_sessionmaker = self.sessionmaker
        if is_sqlite_url(url):
            self.read_engine = create_read_engine(url, echo=echo)
            self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite_url(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads: one snapshot, never a write (SQLite refuses one:
        "attempt to write a readonly database"). On SQLite it runs on
        the read-only pool beside the writer; on PostgreSQL on the ordinary pool."""
        async with self.read_sessionmaker() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not None:
            await self.read_engine.dispose()


def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """The session's own dialect's ``insert()``: the one with ON CONFLICT, for upserts and
    inserts that skip existing keys (both engines have it; SQLAlchemy's generic one does not)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


async def insert_if_absent(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """INSERT a row unless one with the same unique key exists; True when this call inserted it."""
    return await insert_absent(session, table, [values]) == 1


async def insert_absent(
    session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]], *, chunk: int = 500
) -> int:
    """INSERT each row unless one with its unique key exists; how many this call inserted.

    Both engines do this atomically (ON CONFLICT DO NOTHING), so concurrent callers never fail.
    ``chunk`` rows go in one statement, well under SQLite's bound-parameter limit.
    """
    insert = dialect_insert(session)
    inserted = 0
    for start in range(0, len(rows), chunk):
        part = list(rows[start : start + chunk])
        result = await session.execute(insert(table).values(part).on_conflict_do_nothing())
        inserted += max(0, int(getattr(result, "rowcount", 0) or 0))
    return inserted
