"""Benchmark: the re-litigation lookup (``find_repeat``) on 100,000 decisions, both engines.

Loads decisions whose titles and resolutions are drawn from a 4,000-word vocabulary with a
Zipf-like spread (a few words in a third of all titles, most in a handful), with their
``decision_terms`` rows written as the write path writes them, plus a second workspace of 10 %
as noise; half the decisions are decided, some long ago (outside ``relitigation_days``). Then
times lookups one after another, as ``/decision new`` makes them: half are a reworded existing
title (words reordered, one misspelt), half a title never seen, some of common words only. The
reader may see 4 channels in 5. Target (issue 18 point 6): p99 under 15 ms on both engines.

    .venv/bin/python -m bench.bench_relitigation --engine sqlite --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from bench.bench_commands import fresh_database
from bot.db import Database
from bot.decisions import service
from bot.decisions.models import Decision, DecisionTerm, _keep_terms, decision_terms
from bot.decisions.relitigation import find_repeat
from bot.visibility import Visibility
from bot.workspace import WorkspaceKey

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MAIN, NOISE, WRITES = WorkspaceKey("TBENCH"), WorkspaceKey("TNOISE"), WorkspaceKey("TWRITE")
VERBS = ["pick", "adopt", "move", "hire", "buy", "replace", "rename", "launch", "close", "raise"]
COMMON = ["team", "vendor", "budget", "office", "customer", "release", "policy", "process"]
SYLLABLES = ["ka", "lo", "mir", "tan", "vel", "dor", "sun", "ri", "pe", "gax", "tho", "ul"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: dict[str, None] = dict.fromkeys(COMMON)
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


class Titles:
    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.words = vocabulary(rng, size)
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]

    def nouns(self, k: int) -> list[str]:
        return self.rng.choices(self.words, weights=self.weights, k=k)

    def title(self) -> str:
        a, b, c = self.nouns(3)
        return f"{self.rng.choice(VERBS).title()} the {a} {b} for {c}"

    def reworded(self, title: str) -> str:
        words = title.split()
        self.rng.shuffle(words)
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        words[longest] = words[longest][:-1] + "x"  # one typo
        return " ".join(words)


async def load(db: Database, titles: Titles, *, decisions: int, channels: int) -> list[str]:
    rng = titles.rng
    made: list[str] = []
    batch: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []

    async def flush() -> None:
        async with db.transaction() as session:
            await session.execute(insert(Decision), batch)
            await session.execute(insert(DecisionTerm), terms)
        batch.clear()
        terms.clear()

    for n in range(1, decisions + decisions // 10 + 1):
        ws = MAIN if n <= decisions else NOISE
        at = NOW - timedelta(minutes=10 * n)  # the oldest are about two years old
        decided = rng.random() < 0.5
        title = titles.title()
        resolution = " ".join(titles.nouns(4)) if decided else None
        if ws == MAIN:
            made.append(title)
        batch.append(
            {
                **Decision.key_values(ws),
                "id": n,
                "number": n,
                "title": title,
                "owner_id": f"U{rng.randrange(50)}",
                "creator_id": f"U{rng.randrange(50)}",
                "channel_id": f"C{rng.randrange(channels)}",
                "status": "decided" if decided else "open",
                "resolution": resolution,
                "decided_at": at if decided else None,
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
            }
        )
        terms.extend(
            {**Decision.key_values(ws), "decision_id": n, "term": t}
            for t in decision_terms(title, resolution)
        )
        if len(batch) == 5000:
            await flush()
    if batch:
        await flush()
    return made


async def lookups(
    db: Database, titles: Titles, existing: list[str], *, total: int, channels: int
) -> tuple[list[float], list[float], int]:
    visible = Visibility(reader="U1", channels=frozenset(f"C{i}" for i in range(channels) if i % 5))
    rng = titles.rng
    timings: list[float] = []
    baseline: list[float] = []
    found = 0
    for i in range(total):
        if i % 2:
            title = titles.reworded(rng.choice(existing))
        elif i % 10 == 0:
            title = f"Move the {' '.join(rng.sample(COMMON, 3))}"
        else:
            title = titles.title()
        started = time.perf_counter()
        async with db.transaction() as session:
            repeat = await find_repeat(
                session, ws=MAIN, title=title, visible=visible, now=NOW, relitigation_days=365
            )
        timings.append(time.perf_counter() - started)
        found += repeat is not None
        # The machine's own noise, measured alongside: one trivial statement in a transaction.
        started = time.perf_counter()
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
        baseline.append(time.perf_counter() - started)
    return sorted(timings), sorted(baseline), found


async def writes(db: Database, titles: Titles, *, total: int) -> tuple[list[float], list[float]]:
    """``/decision new``'s transaction (``create_decisions``, one decision) with the terms hook
    and without it, interleaved: what keeping ``decision_terms`` costs the write path."""
    timed: dict[bool, list[float]] = {True: [], False: []}
    for i in range(total * 2):
        hooked = i % 2 == 0
        if not hooked:
            event.remove(Session, "after_flush", _keep_terms)
        try:
            request = service.new_decision(
                ws=WRITES,
                title=titles.title(),
                owner_id="U1",
                creator_id="U1",
                channel_id="C1",
                now=NOW,
            )
            started = time.perf_counter()
            async with db.transaction() as session:
                await service.create_decisions(session, [request])
            timed[hooked].append(time.perf_counter() - started)
        finally:
            if not hooked:
                event.listen(Session, "after_flush", _keep_terms)
    return sorted(timed[True]), sorted(timed[False])


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def run(engine: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    url = await fresh_database(engine, "followthrough_bench_relitigation", folder)
    db = Database(url, pool_size=2)
    titles = Titles(random.Random(18), args.vocabulary)
    try:
        started = time.perf_counter()
        existing = await load(db, titles, decisions=args.decisions, channels=args.channels)
        loaded = time.perf_counter() - started
        # As a database in use would be: statistics gathered, PostgreSQL's visibility map set
        # (so the terms index is read without visiting the table).
        async with db.engine.connect() as conn:
            ready = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await ready.execute(text("ANALYZE" if engine == "sqlite" else "VACUUM ANALYZE"))
            if engine != "sqlite":  # the load gave ids itself: new rows go on after them
                await ready.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('decisions', 'id'), max(id)) "
                        "FROM decisions"
                    )
                )
        await lookups(db, titles, existing, total=200, channels=args.channels)  # warm up
        cpu = time.process_time()
        timings, baseline, found = await lookups(
            db, titles, existing, total=args.lookups, channels=args.channels
        )
        # This process's CPU per lookup (with its SELECT 1): the work, whatever else the
        # machine runs. SQLite's work is in it (aiosqlite's thread); PostgreSQL's server is not.
        cpu_ms = (time.process_time() - cpu) / args.lookups * 1000
        with_terms, without = await writes(db, titles, total=args.writes)
    finally:
        await db.dispose()
    return {
        "engine": engine,
        "load": loaded,
        "p50": pct(timings, 0.5),
        "p99": pct(timings, 0.99),
        "max": timings[-1] * 1000,
        "found": found,
        "base_p99": pct(baseline, 0.99),
        "cpu": cpu_ms,
        "write": (
            pct(with_terms, 0.5),
            pct(with_terms, 0.99),
            pct(without, 0.5),
            pct(without, 0.99),
        ),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--vocabulary", type=int, default=4000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for engine in args.engine or ["sqlite", "postgres"]:
            results.append(await run(engine, args, Path(folder)))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| engine | decisions | load | lookup p50 | lookup p99 | max | warned | SELECT 1 p99 "
        "| CPU / lookup |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} | {args.decisions} (+{args.decisions // 10} noise) | "
            f"{r['load']:.0f} s | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['max']:.1f} ms | "
            f"{r['found']}/{args.lookups} | {r['base_p99']:.1f} ms | {r['cpu']:.1f} ms |"
        )
    print("\n| engine | new decision p50 / p99 with terms | without | (one per transaction) |")
    print("|---|---|---|---|")
    for r in results:
        a, b, c, d = r["write"]
        print(f"| {r['engine']} | {a:.1f} / {b:.1f} ms | {c:.1f} / {d:.1f} ms | |")


if __name__ == "__main__":
    asyncio.run(main())
