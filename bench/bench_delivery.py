"""Benchmark: delivering 10k reminders across 100 workspaces to a fake Slack that enforces limits.

The fake (in its own process, so it has a core of its own) enforces Slack's per-channel limit on
``chat.postMessage`` (1 per second, bursts of 3) and a per-workspace budget per minute for the
method. Each workspace has 100 stalled decisions owned by two people, so each conversation gets
50 reminders: the per-channel limit is what bounds the run. The ledger rows are planned first;
what is timed is `bot.slack.sender.Sender.send_due` draining them, with the real composers,
ledger and Web API client.

The allowed rate is what an ideal sender could reach under the same limits (every conversation
as fast as its bucket lets it, every workspace within its budget); the target is at least 90 %
of it, with no 429 answered.

    .venv/bin/python -m bench.bench_delivery --engine sqlite
    .venv/bin/python -m bench.bench_delivery --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import platform
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.bench_commands import fresh_database
from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.decisions.models import Decision
from bot.delivery.pacing import Pacing
from bot.devtools.fake_slack import FakeSlack
from bot.nudges.planner import plan_nudges
from bot.settings import Settings
from bot.slack.compose import default_composers
from bot.slack.sender import Sender, SlackClients
from bot.worker import ShiftedClock
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday, working hours in UTC
CHANNEL_RATE = 1.0
CHANNEL_BURST = 3


def workspace(index: int) -> WorkspaceKey:
    return WorkspaceKey(team_id=f"TD{index:03d}")


def owners(index: int, per_workspace: int) -> list[str]:
    return [f"UD{index:03d}X{k}" for k in range(per_workspace)]


def serve_fake(conn: Connection, users: list[str], per_minute: int) -> None:
    """The fake Slack's process: serve until told to stop, then report what it saw."""

    async def main() -> None:
        fake = FakeSlack(
            enforce_rate_limits=True,
            per_channel_per_second=CHANNEL_RATE,
            per_channel_burst=CHANNEL_BURST,
            per_method_per_minute={"chat.postMessage": per_minute},
        )
        await fake.start()
        for user in users:
            fake.add_user(user, name=user.lower(), tz="UTC")
        conn.send(fake.api_url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        posts = fake.calls_to("chat.postMessage")
        delivered = [c.at for c in posts if c.ok]
        conn.send(
            {
                "posts": len(posts),
                "delivered": len(delivered),
                "rate_limited": fake.rate_limited_count,
                "first": min(delivered, default=0.0),
                "last": max(delivered, default=0.0),
            }
        )
        await fake.stop()

    asyncio.run(main())


def ideal_seconds(per_channel: Counter[str], per_workspace: Counter[str], per_minute: int) -> float:
    """How long an ideal sender needs under the fake's limits, from the first post to the last."""
    channel = max(max(0, n - CHANNEL_BURST) / CHANNEL_RATE for n in per_channel.values())
    workspace = max((math.ceil(n / per_minute) - 1) * 60.0 for n in per_workspace.values())
    return max(channel, workspace)


async def load(db: Database, *, workspaces: int, per_workspace: int, people: int) -> None:
    rows: list[dict[str, Any]] = []
    for w in range(workspaces):
        team = workspace(w).team_id
        names = owners(w, people)
        for number in range(1, per_workspace + 1):
            owner = names[number % people]
            rows.append(
                {
                    "enterprise_id": "",
                    "team_id": team,
                    "number": number,
                    "title": f"Decision {number} of {team}",
                    "owner_id": owner,
                    "creator_id": owner,
                    "channel_id": "CD1",
                    "status": "open",
                    "created_at": NOW - timedelta(days=10),
                    "updated_at": NOW - timedelta(days=10),
                    "last_activity_at": NOW - timedelta(days=10),
                }
            )
    async with db.transaction() as session:
        await session.execute(
            insert(Workspace),
            [
                {
                    "enterprise_id": "",
                    "team_id": workspace(w).team_id,
                    "overrides": {},
                    "installed_at": NOW,
                    "updated_at": NOW,
                }
                for w in range(workspaces)
            ],
        )
        await session.execute(insert(Decision), rows)


async def utc_zone(_ws: WorkspaceKey, _user: str) -> ZoneInfo:
    return ZoneInfo("UTC")


async def run(args: argparse.Namespace) -> None:
    users = [u for w in range(args.workspaces) for u in owners(w, args.people)]
    parent, child = multiprocessing.Pipe()
    fake = multiprocessing.Process(
        target=serve_fake, args=(child, users, args.per_minute), daemon=True
    )
    fake.start()
    api_url = parent.recv()
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(args.engine, "bench_delivery", Path(folder))
        db = Database(url)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            slack_signing_secret="bench-signing-secret",
            slack_bot_token="xoxb-bench",
            slack_api_url=api_url,
            database_url=url,
        )

        async def token_for(ws: WorkspaceKey) -> str:
            return f"xoxb-{ws.team_id}"

        clients = SlackClients(settings, token_for)
        try:
            await load(
                db, workspaces=args.workspaces, per_workspace=args.per_workspace, people=args.people
            )
            planned = await plan_nudges(db, base=CadenceConfig(), now=NOW, zone_of=utc_zone)
            total = planned.planned
            sender = Sender(
                db=db,
                clock=ShiftedClock(NOW),
                clients=clients,
                composers=default_composers(),
                cadence=CadenceConfig(),
                pacing=Pacing(
                    channel_interval=1.0 / CHANNEL_RATE, workspace_per_minute=args.per_minute
                ),
            )
            started = time.perf_counter()
            report = await sender.send_due()
            elapsed = time.perf_counter() - started
        finally:
            await clients.close()
            await db.dispose()
    parent.send("stop")
    seen = parent.recv()
    fake.join(10)

    per_channel = Counter({u: args.per_workspace // args.people for u in users})
    per_workspace = Counter(
        {workspace(w).team_id: args.per_workspace for w in range(args.workspaces)}
    )
    ideal = ideal_seconds(per_channel, per_workspace, args.per_minute)
    window = seen["last"] - seen["first"]
    achieved = (seen["delivered"] - 1) / window if window > 0 else float("nan")
    allowed = (total - 1) / ideal
    print(
        f"engine={args.engine} machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}"
    )
    print(
        f"{total:,} reminders, {args.workspaces} workspaces, {len(users)} conversations; "
        f"limits: {CHANNEL_RATE:g}/s per channel (burst {CHANNEL_BURST}), "
        f"{args.per_minute}/min per workspace"
    )
    print(
        f"sent {report.sent:,} (failed {report.failed}, retried {report.retried}) "
        f"in {elapsed:.1f} s; first to last post {window:.1f} s, ideal {ideal:.1f} s"
    )
    print(
        f"rate {achieved:.1f}/s of an allowed {allowed:.1f}/s = {achieved / allowed:.1%}; "
        f"429s answered: {seen['rate_limited']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--per-workspace", type=int, default=100)
    parser.add_argument("--people", type=int, default=2, help="reminder recipients per workspace")
    parser.add_argument(
        "--per-minute", type=int, default=100, help="posts per workspace per minute"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
