"""One workspace's trouble never stops another's nudges, digest or cards, nor another tick step.

Two workspaces share a tick: T1 is healthy, T2's token is revoked (Slack answers
``token_revoked``) or cannot be had at all (its rotation raises). T1's reminder, digest and card
all go out; T2's failures are logged once with the workspace and counted in the tick's report;
``run-jobs`` would still exit 0, since the database answered.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cadence.config import CadenceConfig, DigestSchedule
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.devtools.fake_slack import FakeSlack
from bot.slack.compose import default_composers
from bot.slack.sender import Sender, SlackClients, TokenFor
from bot.slack.users import UserDirectory
from bot.worker import Jobs, zone_lookup
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.conftest import BOT_TOKEN, MONDAY, make_settings

HEALTHY = WorkspaceKey("T1")
BROKEN = WorkspaceKey("T2")
REVOKED_TOKEN = "xoxb-revoked"
CADENCE = CadenceConfig(digest=DigestSchedule(recipients=["UADMIN"]))


async def seed(db: Database) -> None:
    """In each workspace: a decision stalled for a week, and a new one whose card is due."""
    async with db.transaction() as session:
        for ws, owner in ((HEALTHY, "U1"), (BROKEN, "U2")):
            await workspaces.ensure_workspace(session, ws=ws, now=MONDAY - timedelta(days=8))
            for title, created in (
                (f"Stalled in {ws.team_id}", MONDAY - timedelta(days=8)),
                (f"New in {ws.team_id}", MONDAY - timedelta(minutes=5)),
            ):
                await decisions.create_decision(
                    session,
                    decisions.new_decision(
                        ws=ws,
                        title=title,
                        owner_id=owner,
                        creator_id=owner,
                        channel_id="C1",
                        now=created,
                    ),
                )


def tokens(broken: str) -> TokenFor:
    async def token_for(ws: WorkspaceKey) -> str | None:
        if ws == HEALTHY:
            return BOT_TOKEN
        if broken == "unrotatable":
            raise RuntimeError("token rotation failed: invalid_refresh_token")
        return REVOKED_TOKEN

    return token_for


def jobs_for(db: Database, fake: FakeSlack, db_url: str, token_for: TokenFor) -> Jobs:
    clients = SlackClients(make_settings(db_url, fake), token_for)
    users = UserDirectory()
    sender = Sender(
        db=db,
        clock=ManualClock(MONDAY),
        clients=clients,
        composers=default_composers(),
        cadence=CADENCE,
        users=users,
    )
    return Jobs(
        db=db,
        clock=ManualClock(MONDAY),
        cadence=CADENCE,
        sender=sender,
        zone_of=zone_lookup(clients, users),
        clients=clients,
    )


def healthy_posts(fake: FakeSlack) -> list[str]:
    return [
        f"{c.params['channel']}: {c.params.get('text')}"
        for c in fake.calls_to("chat.postMessage")
        if c.ok and c.token == BOT_TOKEN
    ]


@pytest.mark.parametrize("broken", ["revoked", "unrotatable"])
async def test_a_broken_workspace_never_stops_the_healthy_ones_nudges_digest_and_cards(
    db: Database,
    fake_slack: FakeSlack,
    db_url: str,
    broken: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_slack.revoked_tokens.add(REVOKED_TOKEN)
    await seed(db)
    jobs = jobs_for(db, fake_slack, db_url, tokens(broken))
    caplog.set_level(logging.INFO)
    try:
        report = await jobs.tick()
    finally:
        await jobs.clients.close()  # type: ignore[union-attr]

    posts = healthy_posts(fake_slack)
    # The reminder to T1's owner, T1's digest, and T1's new card: each once.
    assert sum(p.startswith("U1: ") and "Stalled in T1" in p for p in posts) == 1, posts
    assert sum(p.startswith("UADMIN: ") for p in posts) == 1, posts
    assert sum(p.startswith("C1: ") and "New in T1" in p for p in posts) == 1, posts
    assert not any("T2" in p for p in posts)
    assert not [c for c in fake_slack.calls_to("chat.postMessage") if c.ok and c.token != BOT_TOKEN]
    assert report.failed_steps == []
    assert report.database_failed is False
    assert report.planned.planned >= 2  # T2's reminder is planned too: it waits for its token
    # The reminder, the digest and the card: a card is a ledger row like the others now (it
    # had its own "cards" step, counted apart, before issue 12 point 1).
    assert report.sent.sent == 3
    if broken == "unrotatable":
        assert report.failed_workspaces["send"] == 1
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage() for r in errors if "T2" in r.getMessage()] == [
            "no token for T2 (the others go on): "
            "RuntimeError: token rotation failed: invalid_refresh_token"
        ]
        assert "failed in 1 workspace" in report.summary()
    else:
        # Refused row by row (each failed for good, counted by its error), as nudges and the
        # digest were before; the card's own step counted the workspace apart until issue 12.
        assert report.sent.errors["token_revoked"] >= 3  # T2's reminder, digest and card
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_workspace_whose_planning_raises_is_counted_and_the_others_go_on(
    db: Database,
    fake_slack: FakeSlack,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await seed(db)
    jobs = jobs_for(db, fake_slack, db_url, tokens("revoked"))
    fake_slack.revoked_tokens.add(REVOKED_TOKEN)
    real_zone_of = jobs.zone_of

    async def zone_of(ws: WorkspaceKey, user_id: str) -> object:
        if ws == BROKEN:
            raise KeyError("a composing bug in T2")
        return await real_zone_of(ws, user_id)

    jobs.zone_of = zone_of  # type: ignore[assignment]
    try:
        report = await jobs.tick()
    finally:
        await jobs.clients.close()  # type: ignore[union-attr]
    assert report.planned.failed == 1
    assert report.failed_workspaces["nudges"] == 1
    posts = healthy_posts(fake_slack)
    assert sum(p.startswith("U1: ") for p in posts) == 1, posts
    failures = [r for r in caplog.records if "planning nudges for T2 failed" in r.getMessage()]
    assert len(failures) == 1


async def test_a_step_that_raises_does_not_skip_the_others(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await seed(db)
    jobs = jobs_for(db, fake_slack, db_url, tokens("revoked"))

    async def broken_step(_now: object) -> object:
        raise RuntimeError("a bug in one step")

    jobs.steps = {"broken": broken_step, **jobs.steps}  # type: ignore[dict-item]
    try:
        report = await jobs.tick()
    finally:
        await jobs.clients.close()  # type: ignore[union-attr]
    assert report.failed_steps == ["broken"]
    assert report.database_failed is False
    posts = healthy_posts(fake_slack)
    assert sum(p.startswith("UADMIN: ") for p in posts) == 1, posts
    assert sum(p.startswith("C1: ") for p in posts) == 1, posts


async def test_a_database_that_does_not_answer_is_the_one_failure_of_the_pass(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    jobs = jobs_for(Database(url), fake_slack, url, tokens("revoked"))
    try:
        report = await jobs.tick()
    finally:
        await jobs.close()
    assert report.database_failed is True
    assert "nudges" in report.failed_steps and "send" in report.failed_steps
    assert "the database could not be reached" in report.summary()


@pytest.mark.parametrize(("database_failed", "code"), [(False, 0), (True, 1)])
def test_run_jobs_exits_non_zero_only_when_the_database_failed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
    tmp_path: Path,
    database_failed: bool,
    code: int,
) -> None:
    from bot import cli, startup, worker
    from bot.worker import TickReport

    report = TickReport(database_failed=database_failed)
    report.failed_workspaces["send"] = 1  # a workspace failing alone never fails the pass

    async def checked(_url: str, *, command: str) -> object:
        return None

    async def one_pass(*_args: object, **_kwargs: object) -> TickReport:
        return report

    monkeypatch.setattr(startup, "check", checked)
    monkeypatch.setattr(worker, "run_jobs", one_pass)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s" * 32)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    assert cli.main(["run-jobs"]) == code
    assert "send failed in 1 workspace" in capsys.readouterr().out
