"""The weekly digest goes out through the ledger: at its day and time, once per recipient a week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.devtools.fake_slack import FakeSlack
from bot.slack.client import NO_PAUSES
from bot.worker import build_jobs
from bot.workspace import WorkspaceKey
from bot.workspaces.service import ensure_workspace
from tests.conftest import make_settings

WS = WorkspaceKey("T1")
# Monday 30 November 2026, 09:00 UTC is when this workspace's digest falls due.
DUE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def cadence() -> CadenceConfig:
    return CadenceConfig.model_validate(
        {"digest": {"day": "mon", "time": "09:00", "recipients": ["UADMIN", "C0DIGEST"]}}
    )


async def seed(db: Database) -> None:
    async with db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=DUE - timedelta(days=10))
        created = await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS,
                title="Pick a payroll vendor",
                owner_id="U2",
                creator_id="U1",
                channel_id="C1",
                due_date=date(2026, 11, 25),
                now=DUE - timedelta(days=8),
            ),
        )
        assert created.number == 1


async def tick_at(db_url: str, fake: FakeSlack, moment: datetime) -> None:
    jobs = build_jobs(make_settings(db_url, fake), cadence(), ManualClock(moment), pauses=NO_PAUSES)
    try:
        await jobs.tick()
    finally:
        await jobs.close()


def digests(fake: FakeSlack) -> list[str]:
    return [
        m.channel
        for m in fake.messages.values()
        if "digest" in (m.text or "").lower() or "Pick a payroll vendor" in str(m.blocks)
    ]


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_digest_goes_out_once_per_recipient_and_week(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await seed(db)
    await tick_at(db_url, fake_slack, DUE - timedelta(minutes=1))
    assert digests(fake_slack) == []
    await tick_at(db_url, fake_slack, DUE + timedelta(minutes=1))
    assert sorted(digests(fake_slack)) == ["C0DIGEST", "DUADMIN"]
    assert len(fake_slack.files) == 2, "each digest carries its trend chart"
    # Another worker, a retry or the next minute plans nothing new for the same week.
    await tick_at(db_url, fake_slack, DUE + timedelta(minutes=1))
    await tick_at(db_url, fake_slack, DUE + timedelta(hours=5))
    assert len(digests(fake_slack)) == 2
    # The next week's digest is a new one.
    await tick_at(db_url, fake_slack, DUE + timedelta(days=7, minutes=1))
    assert len(digests(fake_slack)) == 4


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_worker_down_at_the_minute_still_sends_once(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await seed(db)
    await tick_at(db_url, fake_slack, DUE + timedelta(hours=3, minutes=17))
    await tick_at(db_url, fake_slack, DUE + timedelta(hours=3, minutes=18))
    assert sorted(digests(fake_slack)) == ["C0DIGEST", "DUADMIN"]
