"""Stored settings outside their range (saved by an older version, or by hand) break nothing.

The attack run stored "stall after" = 200000000 for one workspace; from then on every scheduler
pass failed with OverflowError for everyone and that workspace's list, stats and preview were an
apology. Stored overrides are checked whenever they are read: a value out of range is left out
(the file's value applies) with one warning line, and everything goes on, for everyone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.db import Database
from bot.decisions import service as decisions
from bot.devtools.fake_slack import FakeSlack
from bot.slack.ids import Block as BlockId
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests.conftest import MONDAY, AppEnv
from tests.test_settings_e2e import open_settings
from tests.test_worker import PEOPLE, WEEK_AGO, add_people, own_db_url, run_jobs, seed

__all__ = ["own_db_url"]

T1 = WorkspaceKey("T1")
T2 = WorkspaceKey("T2")
HUGE = {"nudges": {"stall_after_days": 200_000_000, "outcome_grace_hours": 200_000_000}}


async def store_overrides(db: Database, ws: WorkspaceKey, overrides: dict[str, Any]) -> None:
    """Write overrides straight to the table, as an older version without ranges could have."""
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=ws, now=WEEK_AGO)
        await session.execute(
            update(Workspace).where(Workspace.in_workspace(ws)).values(overrides=overrides)
        )


async def test_out_of_range_values_fall_back_to_the_file_with_a_warning(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture
) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    await store_overrides(app_env.deps.db, T1, {**HUGE, "timezone": "Asia/Tokyo"})
    with caplog.at_level(logging.WARNING, logger="bot.workspaces.service"):
        cadence = await app_env.deps.cadence_for(T1)
    assert cadence.nudges.stall_after_days == 5 and cadence.nudges.outcome_grace_hours == 4
    assert cadence.timezone == "Asia/Tokyo"  # what still fits is kept
    [warning] = [r for r in caplog.records if r.name == "bot.workspaces.service"]
    assert "T1" in warning.getMessage() and "nudges.stall_after_days" in warning.getMessage()
    assert warning.exc_info is None

    listed = await app_env.answer("/decision", "list stalled")
    assert "Stalled decisions" in str(listed)
    await app_env.command("/hygiene", "stats")
    await app_env.command("/hygiene", "digest preview")
    answers = [post.body.get("text", "") for post in app_env.fake.responses]
    assert answers and not any("Sorry" in text for text in answers)
    view = await open_settings(app_env)
    stall = next(b for b in view["blocks"] if b.get("block_id") == BlockId.SETTINGS_STALL_AFTER)
    assert stall["element"]["initial_value"] == "5"
    assert (stall["element"]["min_value"], stall["element"]["max_value"]) == ("1", "365")


@pytest.mark.slow
async def test_one_workspaces_stored_values_never_stop_the_scheduler(
    own_db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    add_people(fake_slack)
    await seed(own_db_url, PEOPLE[:1])
    db = Database(own_db_url)
    try:
        await store_overrides(db, T2, HUGE)
        async with db.transaction() as session:
            await decisions.create_decision(
                session,
                decisions.new_decision(
                    ws=T2,
                    title="T2's own stalled decision",
                    owner_id=PEOPLE[1],
                    creator_id=PEOPLE[1],
                    channel_id="C1",
                    now=WEEK_AGO,
                ),
            )
    finally:
        await db.dispose()
    code, out, err = await run_jobs(own_db_url, fake_slack.api_url, MONDAY, tmp_path)
    assert code == 0, err
    assert "OverflowError" not in out + err and "Traceback" not in out + err
    # T2 is judged by the file's five days, and T1 is not held up by T2.
    assert "planned 2 new of 2 due reminders in 2 workspaces" in out
    assert sorted(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")) == sorted(
        PEOPLE[:2]
    )
    assert "ignoring overrides" in out + err and "T2" in out + err
