"""Benchmark: `/decision search`'s query on 100,000 decisions, 20 searches at a time.

Loads decisions with titles and resolutions drawn from a vocabulary into a fresh database of
each engine (bulk executemany, so the FTS triggers / GIN index are kept in step as in use),
plus a smaller second workspace, then runs searches — single words, two words, a phrase, a
prefix — 20 concurrently, each one page as the command asks for it (workspace filter, readable
channels as a list). Slack calls excluded. Target: p99 under 50 ms on both engines.

    .venv/bin/python -m bench.bench_search --engine sqlite --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.bench_commands import fresh_database
from bot.db import Database
from bot.decisions.models import Decision
from bot.decisions.search import parse_query, search_decisions
from bot.workspace import WorkspaceKey

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MAIN, NOISE = WorkspaceKey("TBENCH"), WorkspaceKey("TNOISE")
VERBS = [
    "pick",
    "choose",
    "adopt",
    "move",
    "migrate",
    "drop",
    "keep",
    "hire",
    "buy",
    "replace",
    "split",
    "merge",
    "price",
    "rename",
]
NOUNS = [
    "vendor",
    "payroll",
    "database",
    "postgres",
    "billing",
    "office",
    "laptop",
    "policy",
    "roadmap",
    "pricing",
    "contract",
    "onboarding",
    "kubernetes",
    "cluster",
    "analytics",
    "dashboard",
    "budget",
    "hiring",
    "supplier",
    "café",
    "réunion",
    "security",
    "audit",
    "backup",
    "storage",
    "network",
    "printer",
    "travel",
    "expenses",
    "holiday",
    "schedule",
    "release",
]
QUERIES = ["vendor", "payroll vendor", '"billing database"', "vend*", "café", "audit backup"]


def _title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS).title()} {' '.join(rng.sample(NOUNS, 3))} {rng.randrange(1000)}"


async def load(db: Database, *, decisions: int, channels: int) -> None:
    rng = random.Random(18)
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        async with db.transaction() as session:
            await session.execute(insert(Decision), batch)
        batch.clear()

    for n in range(1, decisions + decisions // 10 + 1):
        ws = MAIN if n <= decisions else NOISE
        at = NOW - timedelta(minutes=n)
        decided = rng.random() < 0.5
        batch.append(
            {
                **Decision.key_values(ws),
                "number": n,
                "title": _title(rng),
                "context": " ".join(rng.sample(NOUNS, 6)),
                "owner_id": f"U{rng.randrange(50)}",
                "creator_id": f"U{rng.randrange(50)}",
                "channel_id": f"C{rng.randrange(channels)}",
                "status": "decided" if decided else "open",
                "resolution": " ".join(rng.sample(NOUNS, 4)) if decided else None,
                "decided_at": at if decided else None,
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
            }
        )
        if len(batch) == 5000:
            await flush()
    if batch:
        await flush()


async def searches(db: Database, *, total: int, concurrency: int, channels: int) -> list[float]:
    readable = [f"C{i}" for i in range(channels) if i % 5]  # some channels are not readable
    timings: list[float] = []
    queue = [QUERIES[i % len(QUERIES)] for i in range(total)]

    async def worker() -> None:
        while queue:
            words = queue.pop()
            started = time.perf_counter()
            async with db.transaction() as session:
                await search_decisions(
                    session, ws=MAIN, query=parse_query(words), readable_channels=readable
                )
            timings.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sorted(timings)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def run(engine: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    url = await fresh_database(engine, "followthrough_bench_search", folder)
    db = Database(url, pool_size=args.concurrency)
    try:
        started = time.perf_counter()
        await load(db, decisions=args.decisions, channels=args.channels)
        loaded = time.perf_counter() - started
        await searches(db, total=60, concurrency=args.concurrency, channels=args.channels)
        timings = await searches(
            db, total=args.searches, concurrency=args.concurrency, channels=args.channels
        )
    finally:
        await db.dispose()
    return {"engine": engine, "load": loaded, "p50": pct(timings, 0.5), "p99": pct(timings, 0.99)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for engine in args.engine or ["sqlite", "postgres"]:
            results.append(await run(engine, args, Path(folder)))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| engine | decisions | load | search p50 | search p99 |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} | {args.decisions} (+{args.decisions // 10} noise) | "
            f"{r['load']:.1f} s | {r['p50']:.1f} ms | {r['p99']:.1f} ms |"
        )


if __name__ == "__main__":
    asyncio.run(main())
