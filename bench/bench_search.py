"""Benchmark: `/decision search`'s query on 100,000 decisions, 20 searches at a time.

Loads decisions whose titles, context, resolutions, drop reasons and notes are drawn from a
4,000-word vocabulary with a Zipf spread and a third stop words (as prose is: a few words in
many decisions, most words in few) into a fresh database of each engine (bulk executemany, so
the FTS triggers / generated column are kept in step as in use), plus a second workspace of
10 % as noise, then runs searches from broad to narrow (``QUERIES``: single words of several
frequencies, two words, a phrase, prefixes, an accent folded, a status and channel filter),
20 concurrently, each one page as the command asks for it (the reader may read 4 channels in
5). Prints each query's number of matches and its p50/p99. Slack calls excluded. Target: p99
under 50 ms on both engines.

    .venv/bin/python -m bench.bench_search --engine sqlite --engine postgres

Loading is the slow part (PostgreSQL computes a tsvector and updates the GIN index per row), so
the loaded database is kept between runs: a SQLite file under ``/tmp/followthrough_bench_search``
and a PostgreSQL database ``fbs_<key>``, both named by a key of the schema's head revision, the
sizes and ``LOAD_VERSION`` (so a new migration or another loader builds afresh). The bench only
reads them. ``--rebuild`` builds afresh anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import platform
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.bench_commands import PG_SERVER, fresh_database
from bot.db import Database
from bot.decisions.models import Decision, DecisionStatus
from bot.decisions.search import SearchPage, count_matches, parse_query, search_decisions
from bot.migrate import scripts
from bot.visibility import Visibility
from bot.workspace import WorkspaceKey

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MAIN, NOISE = WorkspaceKey("TBENCH"), WorkspaceKey("TNOISE")
READER = "U7"
# Words a decision log is made of, most common first (their place sets how often they occur).
_REAL = (
    "team project release billing customer plan data office budget database policy support "
    "pricing contract hiring roadmap security onboarding backup travel laptop analytics "
    "dashboard cluster vendor kubernetes postgres supplier audit storage network printer "
    "expenses holiday schedule migration payroll invoice café réunion légal équipe quarterly "
    "renewal licence api mobile android ios refund design review vendors vending"
)
_STOP = "the a to of for and in on we with is it by from at as our this that be"
_SYLLABLES = "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ra re ri ro ta te"
REAL, STOP, SYLLABLES = _REAL.split(), _STOP.split(), _SYLLABLES.split()
VOCABULARY = 4000
# Bump when ``load`` or ``Writer`` change what they write: the cached databases are rebuilt.
LOAD_VERSION = 1
CACHE = Path("/tmp/followthrough_bench_search")


def vocabulary() -> list[str]:
    """``VOCABULARY`` words by rank: made-up ones (two or three syllables), the real ones
    spread from rank 20 to about 3,000 (the first in about one decision in ten, the last in
    one in a thousand), so the queries below range from broad to narrow."""
    rng = random.Random(7)
    words: list[str] = []
    seen = set(REAL)
    while len(words) < VOCABULARY - len(REAL):
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    for i, word in enumerate(REAL):
        words.insert(int(20 * 1.1**i), word)
    return words


class Writer:
    """Text with a Zipf (s = 1) spread over the vocabulary and a third of the words stop words,
    as prose is: a handful of words everywhere, most words rare."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = vocabulary()
        self.weights = list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))

    def text(self, low: int, high: int) -> str:
        out = []
        for _ in range(self.rng.randint(low, high)):
            if self.rng.random() < 0.33:
                out.append(self.rng.choice(STOP))
            else:
                out.append(self.rng.choices(self.words, cum_weights=self.weights)[0])
        return " ".join(out)


# One page each, as `/decision search` asks: words of every frequency, two words, a phrase,
# prefixes, an accent folded (the bench prints how many decisions each matches).
QUERIES = {
    "common word": "team",
    "frequent word": "vendor",
    "rarer word": "payroll",
    "rare word": "refund",
    "two words": "billing customer",
    "phrase": '"the team"',
    "prefix": "vend*",
    "short prefix": "pr*",
    "accent folded": "cafe",
    "open, one channel": "vendor in C3 open",
}


async def load(db: Database, *, decisions: int, channels: int) -> None:
    rng = random.Random(18)
    writer = Writer(rng)
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        async with db.transaction() as session:
            await session.execute(insert(Decision), batch)
        batch.clear()

    for n in range(1, decisions + decisions // 10 + 1):
        ws = MAIN if n <= decisions else NOISE
        at = NOW - timedelta(minutes=n)
        fate = rng.random()
        status = "decided" if fate < 0.5 else "dropped" if fate < 0.6 else "open"
        batch.append(
            {
                **Decision.key_values(ws),
                "number": n,
                "title": writer.text(4, 9).capitalize(),
                "context": writer.text(0, 40) or None,
                "owner_id": f"U{rng.randrange(50)}",
                "creator_id": f"U{rng.randrange(50)}",
                "channel_id": f"C{rng.randrange(channels)}",
                "status": status,
                "resolution": writer.text(3, 15) if status == "decided" else None,
                "drop_reason": writer.text(2, 10) if status == "dropped" else None,
                "notes": writer.text(5, 20) if rng.random() < 0.2 else None,
                "decided_at": at if status == "decided" else None,
                "dropped_at": at if status == "dropped" else None,
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
            }
        )
        if len(batch) == 5000:
            await flush()
    if batch:
        await flush()


def _search(words: str) -> tuple[str, DecisionStatus | None, str | None]:
    """``QUERIES``' text: the words, then optionally "in C3" and a status."""
    status = None
    channel = None
    parts = words.split()
    if parts[-1] in ("open", "decided", "dropped"):
        status = DecisionStatus(parts.pop())
    if len(parts) > 2 and parts[-2] == "in":
        channel = parts.pop()
        parts.pop()
    return " ".join(parts), status, channel


async def one(db: Database, words: str, visible: Visibility) -> SearchPage:
    text, status, channel = _search(words)
    async with db.read() as session:
        return await search_decisions(
            session,
            ws=MAIN,
            query=parse_query(text),
            status=status,
            channel_id=channel,
            visible=visible,
        )


async def searches(
    db: Database, *, total: int, concurrency: int, channels: int
) -> dict[str, list[float]]:
    # The reader may read 4 channels in 5 (the others private without them), as lists see it.
    visible = Visibility(
        reader=READER, channels=frozenset(f"C{i}" for i in range(channels) if i % 5)
    )
    timings: dict[str, list[float]] = {name: [] for name in QUERIES}
    names = list(QUERIES)
    queue = [names[i % len(names)] for i in range(total)]
    random.Random(3).shuffle(queue)

    async def worker() -> None:
        while queue:
            name = queue.pop()
            started = time.perf_counter()
            await one(db, QUERIES[name], visible)
            timings[name].append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


async def matches(db: Database, channels: int) -> dict[str, int]:
    """How many decisions each query matches in the reader's view (what ranking has to order)."""
    visible = Visibility(
        reader=READER, channels=frozenset(f"C{i}" for i in range(channels) if i % 5)
    )
    counts = {}
    for name, words in QUERIES.items():
        text, status, channel = _search(words)
        async with db.transaction() as session:
            counts[name] = await count_matches(
                session,
                ws=MAIN,
                query=parse_query(text),
                status=status,
                channel_id=channel,
                visible=visible,
            )
    return counts


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def cache_key(args: argparse.Namespace) -> str:
    """Names the loaded database: the schema head, the sizes, the loader's version."""
    heads = ",".join(sorted(scripts().get_heads()))
    raw = f"{heads}|{args.decisions}|{args.channels}|{LOAD_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


async def _pg_databases() -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER)
    try:
        return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def _pg_rename(old: str, new: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_SERVER)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{new}" WITH (FORCE)')
        await conn.execute(f'ALTER DATABASE "{old}" RENAME TO "{new}"')
    finally:
        await conn.close()


def _pg_url(name: str) -> str:
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def loaded_database(engine: str, args: argparse.Namespace) -> tuple[str, float | None]:
    """The URL of a loaded database (from the cache when it has one) and the seconds loading
    took (None when it came from the cache)."""
    key = cache_key(args)
    if engine == "sqlite":
        CACHE.mkdir(exist_ok=True)  # noqa: ASYNC240
        final = CACHE / f"{key}.db"
        if final.exists() and not args.rebuild:
            return f"sqlite+aiosqlite:///{final}", None
        building = CACHE / f"{key}.building.{os.getpid()}"
        building.mkdir()
        url = await fresh_database(engine, "search", building)
    else:
        name = f"fbs_{key}"
        if name in await _pg_databases() and not args.rebuild:
            return _pg_url(name), None
        url = await fresh_database(engine, f"{name}_building", CACHE)
    db = Database(url, pool_size=2)
    try:
        started = time.perf_counter()
        await load(db, decisions=args.decisions, channels=args.channels)
        loaded = time.perf_counter() - started
        async with db.transaction() as session:
            if engine == "postgres":
                await session.execute(text("ANALYZE decisions"))
            else:
                await session.execute(text("ANALYZE"))
    finally:
        await db.dispose()
    if engine == "sqlite":
        (building / "search.db").rename(final)
        for leftover in building.iterdir():
            leftover.unlink()
        building.rmdir()
        return f"sqlite+aiosqlite:///{final}", loaded
    await _pg_rename(f"fbs_{key}_building", f"fbs_{key}")
    return _pg_url(f"fbs_{key}"), loaded


async def run(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    url, loaded = await loaded_database(engine, args)
    db = Database(url, pool_size=args.concurrency)
    try:
        counts = await matches(db, args.channels)
        await searches(db, total=60, concurrency=args.concurrency, channels=args.channels)
        cpu = time.process_time()
        timings = await searches(
            db, total=args.searches, concurrency=args.concurrency, channels=args.channels
        )
        cpu = time.process_time() - cpu
    finally:
        await db.dispose()
    every = sorted(t for ts in timings.values() for t in ts)
    return {
        "engine": engine,
        "load": loaded,
        "cpu": cpu * 1000 / args.searches,
        "p50": pct(every, 0.5),
        "p99": pct(every, 0.99),
        "queries": {
            name: (counts[name], pct(sorted(ts), 0.5), pct(sorted(ts), 0.99))
            for name, ts in timings.items()
        },
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--searches", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="load afresh, not from the cache")
    args = parser.parse_args()
    results = []
    for engine in args.engine or ["sqlite", "postgres"]:
        results.append(await run(engine, args))
        print(f"{engine}: done", flush=True)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| engine | decisions | load | search p50 | search p99 | CPU per search (bench) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        load_s = "cached" if r["load"] is None else f"{r['load']:.1f} s"
        print(
            f"| {r['engine']} | {args.decisions} (+{args.decisions // 10} noise) | "
            f"{load_s} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['cpu']:.2f} ms |"
        )
    print()
    print("| engine | query | matches | p50 | p99 |")
    print("|---|---|---|---|---|")
    for r in results:
        for name, (count, p50, p99) in r["queries"].items():
            print(
                f"| {r['engine']} | {name} `{QUERIES[name]}` | {count} | "
                f"{p50:.1f} ms | {p99:.1f} ms |"
            )


if __name__ == "__main__":
    asyncio.run(main())
