"""Shared fixtures: both database engines, a fake Slack on loopback, and the app driven over HTTP.

Every database test runs once on SQLite and once on PostgreSQL (the ``db_url`` parameter). The
schema comes from the alembic migrations once per engine and worker, never from ``create_all``.
Each test runs in one transaction that is rolled back after it (tests/db_support.py); a test
marked ``commits`` — several connections, processes or racing transactions on its database —
gets real commits instead, and the tables are emptied after it (once: before the next test only
if that did not finish).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.migrate import upgrade
from bot.models import Base
from bot.server import wire
from bot.settings import Settings
from bot.slack.client import NO_PAUSES
from bot.slack.deps import Deps
from tests.db_support import OuterCommitted, TestDatabase, no_other_connections

pytest_plugins = ["tests._summary"]  # the skip summary at the end of a run

ROOT = Path(__file__).resolve().parents[1]
SLACK_FIXTURES = ROOT.parent / "shared" / "fixtures" / "slack"
PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_DB = "followthrough_test"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def slack_fixture(*parts: str) -> Path:
    """A file from Slack's published fixtures beside the checkout; skips the test without them."""
    path = SLACK_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"Slack fixtures not found at {path} (../shared/fixtures/slack beside the repo)"
        )
    return path


def _pg_url(database: str) -> str:
    base = PG_SERVER.rsplit("/", 1)[0]
    return f"{base}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def _recreate_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_SERVER)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


_created_pg_databases: set[str] = set()


def fresh_database_url(engine: str, tmp_path: Path, name: str) -> str:
    """An empty database of the given engine; skips when PostgreSQL is unreachable.

    PostgreSQL databases are named per test process (each pytest-xdist worker is one, and its
    name is in the database's), so parallel test runs on one server never drop each other's
    databases; they are dropped when the process's session ends.
    """
    if engine == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{name}_{worker}_{os.getpid()}"
    try:
        asyncio.run(_recreate_pg_database(name))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    _created_pg_databases.add(name)
    return _pg_url(name)


async def _drop_pg_databases(names: set[str]) -> None:
    conn = await asyncpg.connect(PG_SERVER)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _created_pg_databases:
        asyncio.run(_drop_pg_databases(_created_pg_databases))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = fresh_database_url(request.param, tmp_path_factory.mktemp("db"), PG_TEST_DB)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
async def database(db_url: str) -> AsyncIterator[Database]:
    # Two xdist workers with 10 (+10 overflow) each hold as many PostgreSQL connections at most
    # as one process with 20 did: the server's max_connections (100) is shared.
    db = TestDatabase(db_url, pool_size=10)
    yield db
    await db.dispose()


async def empty_all_tables(db: Database) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in reversed(tables):
                await conn.execute(text(f"DELETE FROM {name}"))
        else:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


#: Databases a ``commits`` test may have left rows in: its teardown empties its database, so the
#: next test empties it first only when that teardown did not finish.
_dirty: set[str] = set()


@pytest.fixture
async def db(database: TestDatabase, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    if database.url in _dirty:
        await empty_all_tables(database)
    if request.node.get_closest_marker("commits") is None:
        try:
            async with database.bound():
                with no_other_connections(database.url) as refused:
                    yield database
        except OuterCommitted:
            _dirty.add(database.url)
            raise
        assert not refused, refused[0]
        return
    _dirty.add(database.url)
    yield database
    await empty_all_tables(database)
    _dirty.discard(database.url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def cadence() -> CadenceConfig:
    return CadenceConfig()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id="T1") as fake:
        fake.add_user("U1", name="ana", tz="Europe/Berlin")
        fake.add_user("U2", name="ben", tz="America/Los_Angeles")
        fake.add_user("U3", name="cho", tz="Asia/Tokyo")
        fake.add_user("UADMIN", name="ada", tz="UTC", is_admin=True)
        fake.add_channel("C1", name="general")
        fake.add_channel("C2", name="design")
        fake.add_channel("G1", name="secret", is_private=True, members=["U1"])
        yield fake


@dataclass
class AppEnv:
    """The app as Slack sees it: signed HTTP in, Web API calls out to the fake."""

    settings: Settings
    deps: Deps
    fake: FakeSlack
    driver: SlackDriver
    http: httpx.AsyncClient
    web: Any

    async def settle(self, within: float = 10.0) -> None:
        """Wait for the work Bolt runs after acknowledging (channel posts, modal opens)."""
        try:
            await self.deps.in_flight.drain(within)
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None
        await self.deps.follow_ups.drain()

    async def command(self, command: str, text: str = "", **kw: Any) -> httpx.Response:
        kw.setdefault("user_id", "U1")
        kw.setdefault("channel_id", "C1")
        response = await self.driver.command(command, text, **kw)
        await self.settle()
        return response

    async def answer(self, command: str, text: str = "", **kw: Any) -> dict[str, Any]:
        """What the person was told: the ack's body, or (acknowledged first, answered through
        ``respond()``) the last message sent to the command's response_url."""
        before = len(self.fake.responses)
        response = await self.command(command, text, **kw)
        body: dict[str, Any] = response.json() if response.content else {}
        if body.get("text") or body.get("blocks"):
            return body
        later = self.fake.responses[before:]
        assert later, f"{command} {text}: no answer"
        return later[-1].body

    async def interact(self, coro: Any) -> httpx.Response:
        response: httpx.Response = await coro
        await self.settle()
        return response


def make_settings(db_url: str, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake.api_url,
        "database_url": db_url,
        # Posts to one channel are not spaced out in real seconds here (a test that makes 60
        # decisions in #general would wait a minute for their cards); tests of pacing set it.
        "slack_channel_interval_seconds": 0.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def app_env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, cadence: CadenceConfig, db_url: str
) -> AsyncIterator[AppEnv]:
    settings = make_settings(db_url, fake_slack)
    deps = Deps(db=db, clock=clock, cadence=cadence)
    wired = wire(settings, deps, dispose_db=False, pauses=NO_PAUSES)
    web = wired.web
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        driver = SlackDriver(
            http, signing_secret=SIGNING_SECRET, response_url_for=fake_slack.response_url
        )
        env = AppEnv(
            settings=settings, deps=deps, fake=fake_slack, driver=driver, http=http, web=web
        )
        yield env
        await env.settle()
    await wired.close()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clear every setting the app reads from the environment."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "FOLLOWTHROUGH_", "LOG_LEVEL")) or name in (
            "HOST",
            "PORT",
        ):
            monkeypatch.delenv(name, raising=False)
    yield
