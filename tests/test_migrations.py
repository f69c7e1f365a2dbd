"""Migrations go up, down and up again on both engines, and match the models exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db import create_engine
from bot.decisions.search import SEARCH_OBJECTS
from bot.migrate import alembic_config, downgrade, upgrade
from bot.models import Base
from tests.conftest import fresh_database_url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path, "followthrough_migrations")


def _run(url: str, work: object) -> object:
    async def go() -> object:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(work)  # type: ignore[arg-type]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"} - SEARCH_OBJECTS


def _drift(conn: Connection) -> list[object]:
    def include(obj: object, name: str | None, *_: object) -> bool:
        return name not in SEARCH_OBJECTS

    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_object": include}
    )
    return list(compare_metadata(context, Base.metadata))


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, heads


def test_upgrade_downgrade_upgrade_without_drift(empty_url: str) -> None:
    upgrade(empty_url)
    assert _run(empty_url, _tables) == set(Base.metadata.tables)
    assert _run(empty_url, _drift) == []
    downgrade(empty_url, "base")
    assert _run(empty_url, _tables) == set()
    upgrade(empty_url)
    assert _run(empty_url, _drift) == []


def test_every_revision_steps_down_and_up(empty_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(empty_url, revision)
    for _ in revisions:
        downgrade(empty_url, "-1")
    assert _run(empty_url, _tables) == set()
