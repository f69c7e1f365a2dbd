"""Pacing holds across processes (issue 12, points 4 and 7): four ``python -m bot worker``
processes on one PostgreSQL database deliver 2,000 reminders to 40 conversations in 4
workspaces, and the fake Slack, enforcing the limits, never has to answer 429.

The limits are scaled down so the test takes seconds rather than minutes, the same way in the
workers (``SLACK_CHANNEL_INTERVAL_SECONDS`` and the budget settings) and in the fake:
one post per conversation every 0.25 s instead of every second (the fake's bucket holds one
token, so any two posts closer than that are refused), and a budget of 60 posts per workspace
per 2 s instead of 300 per minute (the workers count over 2.5 s, as they count over 61 s for
Slack's minute). Each workspace is installed through OAuth with its own token, so the fake
counts each workspace's budget apart.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import func, insert, select

from bot.db import Database
from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.delivery.models import Delivery, DeliveryStatus
from bot.devtools.fake_slack import FakeSlack
from bot.nudges.rules import episode_key
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.conftest import SIGNING_SECRET, fresh_database_url
from tests.process_support import clean_env
from tests.process_support import run as run_bot

pytestmark = pytest.mark.slow

WORKERS = 4
WORKSPACES = 4
PEOPLE = 10  # conversations per workspace
PER_PERSON = 50  # 4 × 10 × 50 = 2,000 reminders
INTERVAL = 0.25
BUDGET = 60
FAKE_WINDOW = 2.0
WINDOW = 2.5
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123456789"
# Every hour of every day is working time, so the test does not depend on when it runs.
CADENCE = """
[working_hours]
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"
"""


def team(w: int) -> str:
    return f"TP{w}"


def person(w: int, p: int) -> str:
    return f"UP{w}X{p}"


async def load(db: Database, now: datetime) -> None:
    """Open decisions touched just now (the workers' planner finds nothing stalled) and one
    reminder row for each, planned as the sender sends them."""
    store = AsyncSQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=db.engine)
    planned = []
    decisions = []
    for w in range(WORKSPACES):
        ws = WorkspaceKey(team_id=team(w))
        await store.async_save(
            Installation(
                app_id="AFAKEAPP",
                team_id=ws.team_id,
                bot_token=f"xoxb-{ws.team_id}",
                bot_id=f"B{ws.team_id}",
                bot_user_id="UBOT",
                bot_scopes=["chat:write", "users:read"],
                user_id="UINSTALLER",
                installed_at=now.timestamp(),
            )
        )
        for number in range(1, PEOPLE * PER_PERSON + 1):
            owner = person(w, number % PEOPLE)
            decisions.append(
                {
                    "enterprise_id": "",
                    "team_id": ws.team_id,
                    "number": number,
                    "title": f"Decision {number} of {ws.team_id}",
                    "owner_id": owner,
                    "creator_id": owner,
                    "channel_id": "CP1",
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                    "last_activity_at": now,
                }
            )
            planned.append(
                ledger.Planned(
                    ws,
                    "nudge:decision",
                    f"D-{number}",
                    owner,
                    "pacing-test",
                    now,
                    {"number": number, "episode": episode_key(now), "reminder": 1},
                )
            )
    async with db.transaction() as session:
        for w in range(WORKSPACES):
            await workspaces.ensure_workspace(session, ws=WorkspaceKey(team_id=team(w)), now=now)
        await session.execute(insert(Decision), decisions)
        assert await ledger.plan(session, rows=planned, now=now) == len(planned)


async def sent_count(db: Database) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.SENT)
            )
            or 0
        )


@pytest.fixture
def pg_url(tmp_path: Path) -> str:
    return fresh_database_url("postgres", tmp_path, "followthrough_pacing")


async def test_four_workers_keep_to_the_limits_together(tmp_path: Path, pg_url: str) -> None:
    url = pg_url
    total = WORKSPACES * PEOPLE * PER_PERSON
    async with FakeSlack(
        enforce_rate_limits=True,
        per_channel_per_second=1 / INTERVAL,
        per_channel_burst=1,
        per_method_per_minute={"chat.postMessage": BUDGET},
        per_method_window_seconds=FAKE_WINDOW,
    ) as fake:
        for w, p in itertools.product(range(WORKSPACES), range(PEOPLE)):
            fake.add_user(person(w, p), name=person(w, p).lower(), tz="UTC")
        (tmp_path / "followthrough.toml").write_text(CADENCE)
        env = clean_env(
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            SLACK_API_URL=fake.api_url,
            DATABASE_URL=url,
            FOLLOWTHROUGH_CONFIG=str(tmp_path / "followthrough.toml"),
            SLACK_CHANNEL_INTERVAL_SECONDS=str(INTERVAL),
            SLACK_WORKSPACE_POSTS_PER_WINDOW=str(BUDGET),
            SLACK_WORKSPACE_WINDOW_SECONDS=str(WINDOW),
        )
        done = await run_bot("migrate", cwd=tmp_path, env=env)
        assert done.code == 0, done.text
        db = Database(url)
        workers: list[asyncio.subprocess.Process] = []
        try:
            await load(db, datetime.now(UTC) - timedelta(seconds=1))
            for _ in range(WORKERS):
                workers.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        "worker",
                        cwd=tmp_path,
                        env=env,
                        stdin=asyncio.subprocess.DEVNULL,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=asyncio.subprocess.PIPE,
                    )
                )
            # Each worker ticks at once on start; a pass goes on while rows wait for their turn.
            for _ in range(300):
                if await sent_count(db) == total or any(w.returncode is not None for w in workers):
                    break
                await asyncio.sleep(1.0)
            sent = await sent_count(db)
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.send_signal(signal.SIGTERM)
            logs = [(await asyncio.wait_for(w.communicate(), 60)) for w in workers]
            await db.dispose()
        text = [(out + err).decode() for out, err in logs]
        assert sent == total, text[0][-3000:]

        posts = fake.calls_to("chat.postMessage")
        assert fake.rate_limited_count == 0
        assert all(call.ok for call in posts), Counter(call.error for call in posts)
        # No row sent twice: each delivery's metadata once, every row once.
        ids = Counter(call.params["metadata"]["event_payload"]["delivery_id"] for call in posts)
        assert len(ids) == total and max(ids.values()) == 1
        # ~1 message per interval per conversation, as the fake saw them arrive.
        by_channel: dict[str, list[float]] = defaultdict(list)
        by_token: dict[str | None, list[float]] = defaultdict(list)
        for call in posts:
            by_channel[call.params["channel"]].append(call.at)
            by_token[call.token].append(call.at)
        assert len(by_channel) == WORKSPACES * PEOPLE
        gaps = [b - a for times in by_channel.values() for a, b in itertools.pairwise(times)]
        assert min(gaps) >= INTERVAL * 0.999, min(gaps)
        # The workspace budget: never more than BUDGET posts in any window of the fake's.
        assert len(by_token) == WORKSPACES
        for times in by_token.values():
            busiest = max(
                sum(1 for t in times[i:] if t < start + FAKE_WINDOW)
                for i, start in enumerate(times)
            )
            assert busiest <= BUDGET, busiest
        # The work was shared: more than one worker process sent reminders.
        per_worker = [sum(int(n) for n in re.findall(r"; sent (\d+),", t)) for t in text]
        assert sum(per_worker) == total, per_worker
        assert sum(1 for n in per_worker if n > 0) >= 2, (per_worker, [t[-1500:] for t in text])
