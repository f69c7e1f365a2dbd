"""Reported weeks stay reported: a sent digest's figures are kept, quoted back, revised, purged.

Each digest here goes out through the real worker (`build_jobs(...).tick()`, the ledger and the
sender) or `/hygiene digest`, against the fake Slack, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.devtools.fake_slack import FakeSlack
from bot.digest import reports, schedule
from bot.digest.models import DigestReport
from bot.slack import digest_compose
from bot.slack.client import NO_PAUSES
from bot.slack.digest_compose import compose_digest
from bot.worker import build_jobs
from bot.workspaces.service import ensure_workspace, purge_workspace
from tests.conftest import BOT_TOKEN, AppEnv, make_settings
from tests.digest_support import WS, add_meeting, add_outcome, utc

# Monday 23 Nov 2026 09:00 UTC: the digest for 16–22 Nov is due; a week later, for 23–29 Nov.
FIRST = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECOND = FIRST + timedelta(days=7)


def cadence() -> CadenceConfig:
    return CadenceConfig.model_validate(
        {"digest": {"day": "mon", "time": "09:00", "recipients": ["UADMIN", "C0DIGEST"]}}
    )


async def tick_at(db_url: str, fake: FakeSlack, moment: datetime) -> None:
    jobs = build_jobs(make_settings(db_url, fake), cadence(), ManualClock(moment), pauses=NO_PAUSES)
    try:
        await jobs.tick()
    finally:
        await jobs.close()


async def stored(db: Database) -> list[DigestReport]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(DigestReport).order_by(DigestReport.period_start, DigestReport.recipient)
        )
        return list(rows)


def digest_posts(fake: FakeSlack) -> list[str]:
    posts = [str(c.params["blocks"]) for c in fake.calls_to("chat.postMessage")]
    return [p for p in posts if "'text': 'Weekly digest'" in p]


@pytest.fixture(autouse=True)
def digest_channel(fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("C0DIGEST", name="digest")


async def seed_week_47(db: Database) -> int:
    """Two meetings in 16–22 Nov, one with an outcome: 50 %. Returns the other meeting's id."""
    async with db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=FIRST - timedelta(days=30))
        done = await add_meeting(session, ended=utc(2026, 11, 17, 10))
        await add_outcome(session, done, created=utc(2026, 11, 17, 11))
        late = await add_meeting(session, ended=utc(2026, 11, 18, 10))
        return late.id


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_sent_digest_is_kept_and_the_next_one_says_what_was_revised(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    late_id = await seed_week_47(db)
    await tick_at(db_url, fake_slack, FIRST + timedelta(minutes=1))
    first = digest_posts(fake_slack)
    assert len(first) == 2
    assert all("*Outcome rate*\\n50% of 2" in blocks for blocks in first)
    rows = await stored(db)
    assert [(r.recipient, r.period_key) for r in rows] == [
        ("C0DIGEST", "2026-W47"),
        ("UADMIN", "2026-W47"),
    ]
    assert all((r.meetings_held, r.meetings_with_outcome, r.stalled) == (2, 1, 0) for r in rows)
    assert rows[0].channels == ["C1"]
    assert rows[0].first_day.isoformat() == "2026-11-16"

    # The outcome of the second meeting is recorded late, after that digest went out.
    async with db.transaction() as session:
        from bot.meetings.models import Meeting

        late = await session.get(Meeting, late_id)
        assert late is not None
        await add_outcome(session, late, created=utc(2026, 11, 24, 9))
    fake_slack.reset()
    await tick_at(db_url, fake_slack, SECOND + timedelta(minutes=1))
    second = digest_posts(fake_slack)
    assert len(second) == 2
    for blocks in second:
        assert "*Week of Mon 23 Nov* against the week before (Mon 16 Nov – Sun 22 Nov)" in blocks
        assert "_(week before 100%, revised from 50%)_" in blocks
        assert "*Meetings held*\\n0  _(week before 2; −2)_" in blocks  # unchanged: no note
        assert (
            "“Revised from” marks a figure that changed after the last digest reported it" in blocks
        )
    assert len(await stored(db)) == 4


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_digest_whose_week_before_is_unchanged_says_so(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await seed_week_47(db)
    await tick_at(db_url, fake_slack, FIRST + timedelta(minutes=1))
    fake_slack.reset()
    await tick_at(db_url, fake_slack, SECOND + timedelta(minutes=1))
    for blocks in digest_posts(fake_slack):
        assert "revised from" not in blocks
        assert "The week before is as the last digest reported it." in blocks


async def test_sending_now_keeps_the_figures_and_a_preview_does_not(app_env: AppEnv) -> None:
    async with app_env.deps.db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=FIRST)
        from sqlalchemy import update

        from bot.workspaces.models import Workspace

        await session.execute(
            update(Workspace)
            .where(Workspace.in_workspace(WS))
            .values(overrides={"digest": {"recipients": ["C0DIGEST"]}})
        )
    await seed_week_47(app_env.deps.db)
    app_env.deps.clock.set(FIRST)  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "digest preview", user_id="UADMIN")
    assert await stored(app_env.deps.db) == []
    await app_env.command("/hygiene", "digest", user_id="UADMIN")
    [row] = await stored(app_env.deps.db)
    assert (row.recipient, row.period_key, row.meetings_held) == ("C0DIGEST", "2026-W47", 2)
    # Sent again the same week: one row, holding what was shown last.
    await app_env.command("/hygiene", "digest", user_id="UADMIN")
    assert len(await stored(app_env.deps.db)) == 1


async def test_a_report_is_not_quoted_to_someone_who_can_no_longer_see_its_channels(
    db: Database, fake_slack: FakeSlack
) -> None:
    """U1 was in private G1 when the last digest counted it; U1 has left G1 since."""
    cadence_ = cadence()
    week = schedule.reported_week(FIRST, cadence_)
    async with db.transaction() as session:
        await add_meeting(session, ended=utc(2026, 11, 17, 10), channel="G1")
        await add_meeting(session, ended=utc(2026, 11, 17, 12), channel="C1")
        figures = (
            await reports_figures(session, cadence_, week, channels={"C1", "G1"})  # as then
        )
        await reports.record_report(
            session,
            ws=WS,
            recipient="U1",
            period=week,
            figures=figures,
            channels={"C1", "G1"},
            sent_at=FIRST,
        )
    fake_slack.channels["G1"].members.remove("U1")
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    digest = await compose_digest(
        db=db, cadence=cadence_, ws=WS, recipient="U1", client=client, now=SECOND
    )
    text = str(digest.blocks)
    assert "_(week before 1; −1)_" in text  # C1's one meeting, as it stands now
    assert "revised from 2" not in text and "last digest" not in text


async def reports_figures(session, cadence_: CadenceConfig, week, *, channels):
    from bot.digest import metrics

    return await metrics.period_figures(
        session,
        ws=WS,
        cadence=cadence_,
        start=week.start,
        end=week.end,
        now=FIRST,
        channels=channels,
    )


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_stored_reports_go_with_the_workspace_on_purge(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await seed_week_47(db)
    await tick_at(db_url, fake_slack, FIRST + timedelta(minutes=1))
    assert len(await stored(db)) == 2
    async with db.transaction() as session:
        await purge_workspace(session, ws=WS)
        left = await session.scalar(select(func.count()).select_from(DigestReport))
    assert left == 0


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_failure_to_keep_the_figures_does_not_send_twice(
    db: Database,
    fake_slack: FakeSlack,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await seed_week_47(db)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(digest_compose.reports, "record_report", broken)
    with caplog.at_level(logging.ERROR):
        await tick_at(db_url, fake_slack, FIRST + timedelta(minutes=1))
        await tick_at(db_url, fake_slack, FIRST + timedelta(minutes=2))
    assert len(digest_posts(fake_slack)) == 2
    assert await stored(db) == []
    assert "was sent but what it showed was not kept" in caplog.text


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_the_export_gives_each_report_as_reported_and_as_now(
    app_env: AppEnv, db_url: str
) -> None:
    late_id = await seed_week_47(app_env.deps.db)
    await tick_at(db_url, app_env.fake, FIRST + timedelta(minutes=1))
    async with app_env.deps.db.transaction() as session:
        from bot.meetings.models import Meeting

        late = await session.get(Meeting, late_id)
        assert late is not None
        await add_outcome(session, late, created=utc(2026, 11, 24, 9))
    app_env.fake.reset()
    app_env.deps.clock.set(SECOND)  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "export", user_id="UADMIN")
    files = {
        re.sub(r"^followthrough-|-\d{4}-.*$", "", f.name): f for f in app_env.fake.files.values()
    }
    assert set(files) == {"decisions", "meetings", "outcomes", "follow-through", "digests"}
    rows = list(csv.DictReader(io.StringIO(files["digests"].content.decode("utf-8-sig"))))
    assert [(r["Week"], r["Sent to"]) for r in rows] == [
        ("2026-W47", "C0DIGEST"),
        ("2026-W47", "ada (UADMIN)"),
    ]
    for row in rows:
        assert (row["Outcome rate (%), reported"], row["Outcome rate (%), now"]) == ("50", "100")
        assert (row["Meetings held, reported"], row["Meetings held, now"]) == ("2", "2")
        assert row["Sent (UTC)"] == "2026-11-23 09:01"
        assert row["First day"] == "2026-11-16" and row["Last day"] == "2026-11-22"
    comment = next(iter(files.values())).initial_comment or ""
    assert "2 digests as reported and as now" in comment
