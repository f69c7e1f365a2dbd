"""Benchmark: `/decision list all` and App Home for readers who may see a fraction of the rows.

50,000 open decisions spread over 200 conversations (a tenth of them public, the rest private);
each of 20 readers is a member of 20 conversations. The server (``python -m bot serve``) runs
in its own process on a fresh database; the fake Slack and the load run in this one. Requests
go 20 at once, one per reader, signed. Timed per request:

- list ack: until the HTTP answer to the slash command (the list itself when the channel facts
  are cached, an empty acknowledgement when they are not);
- list answer: until the list reached the reader (the ack, or the later ``respond()``);
- home: from ``app_home_opened`` until ``views.publish`` went out.

"Warm" keeps the channel facts cached between rounds; "cold" empties the server's cache before
each round the way Slack would (a ``channel_rename`` event per conversation, untimed), so every
round asks Slack about all 200 conversations again.

    .venv/bin/python -m bench.bench_reads --engine sqlite --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import insert

from bench.bench_commands import (
    ROOT,
    SECRET,
    LightClient,
    free_port,
    fresh_database,
    wait_healthy,
)
from bot.db import Database
from bot.decisions.models import Decision
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.numbering import Counter
from bot.workspace import WorkspaceKey

LOBBY = "C9999LOBBY"
WS = WorkspaceKey("T1")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BATCH = 5_000


def channel_ids(count: int) -> list[str]:
    return [f"{'C' if i % 10 == 0 else 'G'}{i:04d}BENCH" for i in range(count)]


def readers(count: int) -> list[str]:
    return [f"U{i:03d}READ" for i in range(count)]


def decision_rows(n: int, channels: list[str], people: list[str]) -> Iterator[dict[str, Any]]:
    rng = random.Random(20261202)
    for number in range(1, n + 1):
        created = NOW - timedelta(minutes=rng.randrange(60 * 24 * 90))
        due = date(2026, 11, 1) + timedelta(days=rng.randrange(90)) if number % 2 else None
        yield {
            "enterprise_id": "",
            "team_id": WS.team_id,
            "number": number,
            "title": f"Benchmark decision {number}",
            "owner_id": f"U{rng.randrange(500):03d}OTHR" if number % 50 else rng.choice(people),
            "creator_id": f"U{rng.randrange(500):03d}OTHR",
            "channel_id": rng.choice(channels),
            "status": "open",
            "due_date": due,
            "created_at": created,
            "updated_at": created,
            "last_activity_at": created,
        }


async def load(db: Database, *, decisions: int, channels: list[str], people: list[str]) -> float:
    started = time.perf_counter()
    rows = list(decision_rows(decisions, channels, people))
    async with db.engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(Decision.__table__), rows[start : start + BATCH])
        await conn.execute(
            insert(Counter.__table__),
            [
                {
                    "enterprise_id": "",
                    "team_id": WS.team_id,
                    "series": "decision",
                    "value": decisions,
                }
            ],
        )
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def run(engine: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    url = await fresh_database(engine, "followthrough_bench_reads", folder)
    db = Database(url)
    channels = channel_ids(args.channels)
    people = readers(args.concurrency)
    rng = random.Random(7)
    try:
        load_seconds = await load(db, decisions=args.decisions, channels=channels, people=people)
    finally:
        await db.dispose()
    async with FakeSlack(team_id="T1") as fake:
        membership = {p: set(rng.sample(channels, args.member_of)) for p in people}
        for p in people:
            fake.add_user(p, name=p.lower())
        for c in channels:
            members = [p for p in people if c in membership[p]]
            fake.add_channel(c, name=c.lower(), is_private=c[0] == "G", members=members)
        fake.add_channel(LOBBY, name="lobby")
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FOLLOW"))},
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        argv = [sys.executable, "-m", "bot", "serve"]
        process = subprocess.Popen(argv, cwd=folder, env=env)  # noqa: ASYNC220
        try:
            await wait_healthy(port, process)
            connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
            async with aiohttp.ClientSession(
                base_url=f"http://127.0.0.1:{port}", connector=connector
            ) as session:
                driver = SlackDriver(
                    LightClient(session),  # type: ignore[arg-type]
                    signing_secret=SECRET,
                    response_url_for=fake.response_url,
                )
                results: dict[str, Any] = {"engine": engine, "load": load_seconds}
                for mode in ("warm", "cold"):
                    results[mode] = await measure(
                        fake, driver, people, channels, args, cold=mode == "cold"
                    )
        finally:
            process.terminate()
            process.wait(timeout=20)
    return results


async def forget_all(driver: SlackDriver, channels: list[str]) -> None:
    """Empty the server's channel facts the way Slack would: an event per conversation."""
    for start in range(0, len(channels), 20):
        await asyncio.gather(
            *(
                driver.event({"type": "channel_rename", "channel": {"id": c, "name": c.lower()}})
                for c in channels[start : start + 20]
            )
        )


async def measure(
    fake: FakeSlack,
    driver: SlackDriver,
    people: list[str],
    channels: list[str],
    args: argparse.Namespace,
    *,
    cold: bool,
) -> dict[str, float]:
    acks: list[float] = []
    answers: list[float] = []
    homes: list[float] = []

    answered: dict[str, asyncio.Event] = {}
    published: dict[str, asyncio.Event] = {}

    def on_response(post: Any) -> None:
        if post.key in answered and "blocks" in post.body:
            answered[post.key].set()

    def on_publish(call: Any) -> dict[str, Any]:
        event = published.get(str(call.params.get("user_id")))
        if event is not None:
            event.set()
        return {"ok": True, "view": {"id": "VBENCH", "type": "home"}}

    fake.on("views.publish", on_publish)
    fake.on_response = on_response

    async def list_all(reader: str) -> None:
        form = driver.command_form("/decision", "list all", user_id=reader, channel_id=LOBBY)
        key = form["response_url"].rsplit("/", 1)[1]
        answered[key] = done = asyncio.Event()
        started = time.perf_counter()
        response = await driver.post(urlencode(form))
        acks.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"list all: {response.status_code}")
        await done.wait()
        del answered[key]
        answers.append(time.perf_counter() - started)

    async def home(reader: str) -> None:
        published[reader] = asyncio.Event()
        started = time.perf_counter()
        await driver.open_home(reader)
        await published[reader].wait()
        homes.append(time.perf_counter() - started)

    # One round unmeasured: connections, first contact, users.info and channel facts.
    await asyncio.gather(*(list_all(p) for p in people))
    await asyncio.gather(*(home(p) for p in people))
    acks.clear()
    answers.clear()
    homes.clear()
    for _ in range(args.rounds):
        fake.responses.clear()
        if cold:
            await forget_all(driver, channels)
        await asyncio.gather(*(list_all(p) for p in people))
        if cold:
            await forget_all(driver, channels)
        fake.calls.clear()
        await asyncio.gather(*(home(p) for p in people))
    return {
        "list_ack_p50": statistics.median(acks),
        "list_ack_p99": p99(acks),
        "list_answer_p50": statistics.median(answers),
        "list_answer_p99": p99(answers),
        "home_p50": statistics.median(homes),
        "home_p99": p99(homes),
        "requests": len(acks),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--member-of", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for engine in args.engine or ["sqlite", "postgres"]:
            results.append(await run(engine, args, Path(folder)))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        "| engine | cache | list ack p50 | list ack p99 | list answer p50 | list answer p99 "
        "| home p50 | home p99 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        for mode in ("warm", "cold"):
            m = r[mode]
            print(
                f"| {r['engine']} | {mode} | {m['list_ack_p50'] * 1000:.0f} ms "
                f"| {m['list_ack_p99'] * 1000:.0f} ms | {m['list_answer_p50'] * 1000:.0f} ms "
                f"| {m['list_answer_p99'] * 1000:.0f} ms "
                f"| {m['home_p50'] * 1000:.0f} ms | {m['home_p99'] * 1000:.0f} ms |"
            )
        print(f"load of {args.decisions} decisions on {r['engine']}: {r['load']:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
