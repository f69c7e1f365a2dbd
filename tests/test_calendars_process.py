"""`python -m bot run-jobs --now` as cron runs it, reading a calendar feed from loopback: the
meeting that ended owes its outcomes, and its organizer is nudged, on both engines."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.calendars import service
from bot.calendars.secrets import SecretBox
from bot.calendars.service import CalendarOptions
from bot.db import Database
from bot.devtools.fake_slack import FakeSlack
from bot.meetings.models import Meeting
from bot.migrate import upgrade
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.calendar_support import KEY, TEAM_FEED, CalendarServer
from tests.conftest import BOT_TOKEN, MONDAY, SIGNING_SECRET, fresh_database_url

WS = WorkspaceKey("T1")
AFTER = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def own_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = fresh_database_url(request.param, tmp_path, "followthrough_calendar_process")
    upgrade(url)
    return url


async def run_jobs(url: str, api_url: str, now: datetime, cwd: Path) -> tuple[int, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL", "FOLLOWTHROUGH_", "CALENDAR_"))
    }
    env.update(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        FOLLOWTHROUGH_ENCRYPTION_KEY=KEY,
        CALENDAR_ALLOW_PRIVATE_URLS="true",
        LOG_LEVEL="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run-jobs",
        "--now",
        now.isoformat(),
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


@pytest.mark.slow
async def test_run_jobs_turns_a_calendar_event_into_a_nudged_meeting(
    own_db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.users["U1"].email = "ana@example.com"
    async with CalendarServer() as server:
        server.files["team.ics"] = TEAM_FEED
        db = Database(own_db_url)
        try:
            async with db.transaction() as session:
                await workspaces.ensure_workspace(session, ws=WS, now=MONDAY)
                await service.add_feed(
                    session,
                    ws=WS,
                    channel_id="C1",
                    url=server.url("team.ics"),
                    added_by="U1",
                    options=CalendarOptions(box=SecretBox(KEY), allow_private=True),
                    now=MONDAY,
                )
            code, output = await run_jobs(own_db_url, fake_slack.api_url, AFTER, tmp_path)
            assert code == 0, output
            async with db.transaction() as session:
                held = list(await session.scalars(select(Meeting).order_by(Meeting.number)))
        finally:
            await db.dispose()
    assert server.hits["team.ics"] == 1
    assert [(m.title, m.organizer_id) for m in held] == [
        ("Weekly sync", "U1"),  # 24 Nov
        ("Vendor call", "C1"),
        ("Weekly sync (moved)", "U1"),
    ]
    nudged: dict[str, str] = {}
    for call in fake_slack.calls_to("chat.postMessage"):
        nudged[call.params["channel"]] = (
            nudged.get(call.params["channel"], "") + call.params["text"]
        )
    assert "M-1" in nudged["U1"] and "M-3" in nudged["U1"]  # ana, the organizer
    assert "M-2" in nudged["C1"]  # the vendor's organizer is not in Slack: the channel
    assert KEY not in output
    assert "team.ics" not in output  # the feed's address is a secret, in logs too
