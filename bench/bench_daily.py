"""Benchmark: one planning tick that plans the daily DMs of 10,000 people with 100,000 open items.

One workspace; every person owns ten open decisions, all stalled (idle for weeks), so the tick
plans every reminder (100,000 bundled ledger rows) and every person's daily DM (10,000 rows):
the worst case, a first tick on an empty ledger. Then the steady tick: everything is planned
already, the cost of each later minute. Data is bulk-loaded with one ``INSERT … SELECT`` over a
generated series. The tick is `bot.nudges.planner.plan_nudges`, with time zones from memory
(the worker asks Slack, cached) spread over four zones.

    .venv/bin/python -m bench.bench_daily --engine sqlite
    .venv/bin/python -m bench.bench_daily --engine postgres

Target: the first tick under 2 s on both engines.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, cast, delete, func, insert, literal, select

from bench.bench_commands import fresh_database
from bench.bench_tick import settle
from bot.cadence.config import CadenceConfig
from bot.db import Database, UTCDateTime
from bot.decisions.models import Decision
from bot.delivery.models import Delivery
from bot.nudges.daily import DAILY_KIND
from bot.nudges.planner import plan_nudges
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace

# Monday 06:00 UTC: before the working day starts in Berlin, New York and UTC, during it in
# Kolkata; every daily DM is planned for the start of its owner's day.
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")]
WS = WorkspaceKey(team_id="TDAILY")


async def load(db: Database, *, people: int, items: int) -> None:
    """``items`` open decisions, idle for three weeks, owned round-robin by ``people``."""
    async with db.transaction() as session:
        await session.execute(
            insert(Workspace),
            [
                {
                    "team_id": WS.team_id,
                    "enterprise_id": "",
                    "overrides": {},
                    "installed_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
    if db.is_sqlite:
        seed = select(literal(1).label("n")).cte("seq", recursive=True)
        seq = seed.union_all(select(seed.c.n + 1).where(seed.c.n < items))
        n, source = seq.c.n, seq
    else:
        series = select(func.generate_series(1, items).label("n")).subquery("seq")
        n, source = series.c.n, series

    def at(moment: datetime) -> object:
        return literal(moment, UTCDateTime)

    idle = at(NOW - timedelta(days=21))
    columns = {
        "enterprise_id": literal(""),
        "team_id": literal(WS.team_id),
        "number": cast(n, Integer),
        "title": literal("Benchmark decision"),
        "owner_id": literal("UD") + cast(n % people, String()),
        "creator_id": literal("UD0"),
        "channel_id": literal("CD1"),
        "status": literal("open"),
        "created_at": idle,
        "updated_at": idle,
        "last_activity_at": idle,
    }
    async with db.transaction() as session:
        await session.execute(
            insert(Decision.__table__).from_select(
                list(columns), select(*[c.label(k) for k, c in columns.items()]).select_from(source)
            )
        )
    await settle(db)


async def zone_of(_ws: WorkspaceKey, user_id: str) -> ZoneInfo:
    return ZONES[int(user_id[2:]) % len(ZONES)]


async def tick(
    db: Database, cadence: CadenceConfig, *, set_based: bool = True
) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    report = await plan_nudges(db, base=cadence, now=NOW, zone_of=zone_of, set_based=set_based)
    return time.perf_counter() - started, report.due, report.planned, report.daily


async def measure(
    engine: str, *, people: int, items: int, repeat: int, set_based: bool = True
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(engine, "bench_daily", Path(folder))
        db = Database(url)
        try:
            started = time.perf_counter()
            await load(db, people=people, items=items)
            loaded = time.perf_counter() - started
            cadence = CadenceConfig()
            firsts, steadies = [], []
            for _ in range(repeat):
                async with db.transaction() as session:
                    await session.execute(delete(Delivery))
                gc.collect()
                seconds, due, planned, dailies = await tick(db, cadence, set_based=set_based)
                assert (due, planned, dailies) == (items, items, people), (due, planned, dailies)
                firsts.append(seconds)
            async with db.transaction() as session:
                daily_rows = await session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.kind == DAILY_KIND)
                )
            assert daily_rows == people
            for _ in range(repeat):
                gc.collect()
                seconds, due, planned, dailies = await tick(db, cadence, set_based=set_based)
                assert (due, planned, dailies) == (items, 0, 0), (due, planned, dailies)
                steadies.append(seconds)
            return {
                "load_s": loaded,
                "first_s": statistics.median(firsts),
                "first_min_s": min(firsts),
                "steady_s": statistics.median(steadies),
                "steady_min_s": min(steadies),
            }
        finally:
            await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--item-by-item",
        action="store_true",
        help="plan every item one by one (the reference: set_based=False)",
    )
    args = parser.parse_args()
    print(
        f"engine={args.engine} people={args.people} items={args.items} repeat={args.repeat} "
        f"{'item by item' if args.item_by_item else 'set-based'}; loadavg "
        + str(os.getloadavg()[0])
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    result = await measure(
        args.engine,
        people=args.people,
        items=args.items,
        repeat=args.repeat,
        set_based=not args.item_by_item,
    )
    print(
        f"load {result['load_s']:.1f} s; first tick median {result['first_s']:.2f} s "
        f"(min {result['first_min_s']:.2f}); steady tick median {result['steady_s']:.2f} s "
        f"(min {result['steady_min_s']:.2f}); target: first tick < 2 s: "
        + ("met" if result["first_s"] < 2.0 else "NOT met")
        + "; loadavg "
        + str(os.getloadavg()[0])
    )


if __name__ == "__main__":
    asyncio.run(main())
