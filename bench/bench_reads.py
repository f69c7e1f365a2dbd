"""Benchmark: `/decision list all` and App Home for readers who may see a fraction of the rows.

50,000 open decisions spread over 200 conversations (a tenth of them public, the rest private);
each of 20 readers is a member of 20 conversations. Requests go 20 at once, one per reader,
signed, through the whole app (gate, Bolt, listeners, services) in this process, against the
fake Slack on loopback. Timed per request:

- list ack: until the HTTP answer to the slash command (the list itself when the channel facts
  are cached, an empty acknowledgement when they are not);
- list answer: until the list reached the reader (the ack, or the later ``respond()``);
- home: from ``app_home_opened`` until ``views.publish`` went out.

"Warm" keeps the channel facts cached between rounds; "cold" empties the cache before each
round, so every round asks Slack about all 200 conversations again.

    .venv/bin/python -m bench.bench_reads --engine sqlite --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench.bench_commands import fresh_database
from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions.models import Decision
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.numbering import Counter
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import Deps
from bot.slack.privacy import ChannelFacts
from bot.web import SlackGate, create_web_app
from bot.workspace import WorkspaceKey

SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-bench"
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
    db = Database(url, pool_size=20)
    channels = channel_ids(args.channels)
    people = readers(args.concurrency)
    rng = random.Random(7)
    async with FakeSlack(team_id=WS.team_id) as fake:
        fake.add_user("UBENCH", name="bench")
        membership = {p: set(rng.sample(channels, args.member_of)) for p in people}
        for p in people:
            fake.add_user(p, name=p.lower())
        for c in channels:
            members = [p for p in people if c in membership[p]]
            fake.add_channel(c, name=c.lower(), is_private=c[0] == "G", members=members)
        load_seconds = await load(db, decisions=args.decisions, channels=channels, people=people)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_signing_secret=SECRET,
            slack_bot_token=TOKEN,
            slack_api_url=fake.api_url,
            database_url=url,
        )
        deps = Deps(db=db, clock=ManualClock(NOW), cadence=CadenceConfig())
        bolt = build_app(settings, deps)
        web = create_web_app(
            bolt,
            db,
            oauth=False,
            gate=SlackGate.for_settings(settings, db),
            follow_ups=deps.follow_ups,
            dispose_db=False,
        )
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            driver = SlackDriver(http, signing_secret=SECRET, response_url_for=fake.response_url)
            results: dict[str, Any] = {"engine": engine, "load": load_seconds}
            for mode in ("warm", "cold"):
                results[mode] = await measure(deps, fake, driver, people, args, cold=mode == "cold")
        if bolt.client.session is not None:
            await bolt.client.session.close()
    await db.dispose()
    return results


async def measure(
    deps: Deps,
    fake: FakeSlack,
    driver: SlackDriver,
    people: list[str],
    args: argparse.Namespace,
    *,
    cold: bool,
) -> dict[str, float]:
    acks: list[float] = []
    answers: list[float] = []
    homes: list[float] = []

    async def list_all(reader: str) -> None:
        before = len(fake.responses)
        started = time.perf_counter()
        response = await driver.command(
            "/decision", "list all", user_id=reader, channel_id="C0000BENCH"
        )
        acked = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"list all: {response.status_code}")
        if response.content and response.json().get("blocks"):
            answered = acked
        else:
            # The fake records what reached the response_url; polled, as it has no signal.
            while not any(r.body.get("blocks") for r in fake.responses[before:]):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
            answered = time.perf_counter() - started
        acks.append(acked)
        answers.append(answered)

    def published(reader: str) -> int:
        return sum(1 for c in fake.calls_to("views.publish") if c.params.get("user_id") == reader)

    async def home(reader: str) -> None:
        before = published(reader)
        started = time.perf_counter()
        await driver.open_home(reader)
        while published(reader) <= before:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        homes.append(time.perf_counter() - started)

    # One round unmeasured: connections, first contact, caches of users.info.
    await asyncio.gather(*(list_all(p) for p in people))
    acks.clear()
    answers.clear()
    for _ in range(args.rounds):
        if cold:
            deps.channel_facts = ChannelFacts()
        await asyncio.gather(*(list_all(p) for p in people))
        await asyncio.sleep(0.05)
        if cold:
            deps.channel_facts = ChannelFacts()
        await asyncio.gather(*(home(p) for p in people))
        await asyncio.sleep(0.05)
    return {
        "list_ack_p50": statistics.median(acks),
        "list_ack_p99": p99(acks),
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
        "| engine | cache | list ack p50 | list ack p99 | list answer p99 | home p50 | home p99 |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for mode in ("warm", "cold"):
            m = r[mode]
            print(
                f"| {r['engine']} | {mode} | {m['list_ack_p50'] * 1000:.0f} ms "
                f"| {m['list_ack_p99'] * 1000:.0f} ms | {m['list_answer_p99'] * 1000:.0f} ms "
                f"| {m['home_p50'] * 1000:.0f} ms | {m['home_p99'] * 1000:.0f} ms |"
            )
        print(f"load of {args.decisions} decisions on {r['engine']}: {r['load']:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
