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


def _add_actions(conn: Connection) -> None:
    """A decision with two actions: A-1 of a meeting, A-2 of the decision alone (issue 17)."""
    from datetime import UTC, datetime

    from bot.decisions.models import Decision
    from bot.meetings.models import Meeting, Outcome

    at = datetime(2026, 12, 3, 12, tzinfo=UTC)
    key = {"enterprise_id": "", "team_id": "T1"}
    conn.execute(
        Meeting.__table__.insert(),
        {
            **key,
            "id": 1,
            "number": 1,
            "title": "Sync",
            "organizer_id": "U1",
            "channel_id": "C1",
            "started_at": at,
            "created_at": at,
        },
    )
    conn.execute(
        Decision.__table__.insert(),
        {
            **key,
            "id": 1,
            "number": 1,
            "title": "Vendor",
            "owner_id": "U1",
            "creator_id": "U1",
            "channel_id": "C2",
            "status": "decided",
            "created_at": at,
            "updated_at": at,
            "last_activity_at": at,
            "decided_at": at,
        },
    )
    common = {
        **key,
        "kind": "action",
        "creator_id": "U1",
        "owner_id": "U1",
        "decision_id": 1,
        "created_at": at,
        "updated_at": at,
    }
    conn.execute(
        Outcome.__table__.insert(),
        [
            {**common, "id": 1, "number": 1, "text": "In the meeting", "meeting_id": 1},
            {**common, "id": 2, "number": 2, "text": "No meeting", "meeting_id": None},
        ],
    )
    conn.commit()


def _outcomes(conn: Connection) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    return [tuple(r) for r in conn.execute(text("SELECT id, meeting_id FROM outcomes ORDER BY id"))]


def _insert_orphan(conn: Connection) -> str:
    """An outcome with neither a meeting nor a decision: the check refuses it."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    try:
        conn.execute(
            text(
                "INSERT INTO outcomes (id, enterprise_id, team_id, kind, text, creator_id, "
                "created_at, updated_at) VALUES (9, '', 'T1', 'note', 'x', 'U1', "
                "'2026-12-03 12:00:00', '2026-12-03 12:00:00')"
            )
        )
    except IntegrityError:
        conn.rollback()
        return "refused"
    return "accepted"


def test_actions_without_a_meeting_down_and_up(empty_url: str) -> None:
    """Up: an action may have no meeting, an outcome with neither is refused. Down: the
    meeting-less action goes (the old schema cannot hold it), the others stay; up again."""
    upgrade(empty_url)
    _run(empty_url, _add_actions)
    assert _run(empty_url, _outcomes) == [(1, 1), (2, None)]
    assert _run(empty_url, _insert_orphan) == "refused"
    downgrade(empty_url, "-1")
    assert _run(empty_url, _outcomes) == [(1, 1)]
    upgrade(empty_url)
    assert _run(empty_url, _outcomes) == [(1, 1)]
    assert _run(empty_url, _drift) == []
