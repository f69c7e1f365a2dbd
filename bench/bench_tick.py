"""Benchmark: a planning tick that finds 1,000 due reminders among 10k and among 1M decisions.

The decisions are spread over ten workspaces: the due ones (half past their due date, half idle
for weeks), a quarter of the rest open and active, the others decided long ago. Data is
bulk-loaded with one ``INSERT … SELECT`` over a generated series, not row by row. The tick is
`bot.nudges.planner.plan_nudges`, with time zones from memory (the worker asks Slack, cached):

- first: the ledger is empty, so 1,000 rows are inserted;
- steady: every reminder is planned already, the cost of each later minute's tick.

    .venv/bin/python -m bench.bench_tick --engine sqlite
    .venv/bin/python -m bench.bench_tick --engine postgres --sizes 10000,1000000

Target: the 1M tick at most 1.5× the 10k tick.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, case, cast, delete, func, insert, literal, select, text

from bench.bench_commands import fresh_database
from bot.cadence.config import CadenceConfig
from bot.db import Database, UTCDateTime
from bot.decisions.models import Decision
from bot.delivery.models import Delivery
from bot.nudges.planner import plan_nudges
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside working hours in UTC
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")]
OWNERS = 100


def workspace_key(index: int) -> WorkspaceKey:
    return WorkspaceKey(team_id=f"TB{index:03d}")


async def load(db: Database, *, total: int, due: int, workspaces: int) -> None:
    """Insert ``total`` decisions, ``due`` of them stalled at NOW, with one INSERT … SELECT."""
    today = NOW.date()
    async with db.transaction() as session:
        await session.execute(
            insert(Workspace),
            [
                {"team_id": workspace_key(i).team_id, "enterprise_id": "", "overrides": {}}
                | {"installed_at": NOW, "updated_at": NOW}
                for i in range(workspaces)
            ],
        )
    if db.is_sqlite:
        seed = select(literal(1).label("n")).cte("seq", recursive=True)
        seq = seed.union_all(select(seed.c.n + 1).where(seed.c.n < total))
        n = seq.c.n
        source = seq
    else:
        series = select(func.generate_series(1, total).label("n")).subquery("seq")
        n = series.c.n
        source = series
    every = total // due
    per_ws = n - 1
    # Integer division written out so both engines keep it an integer.
    number = cast((per_ws - per_ws % workspaces) / workspaces, Integer) + 1
    sequence = cast((number - number % every) / every, Integer)
    # 0: stalled past due, 1: stalled idle, 2: open and active, 3: decided long ago.
    kind = case(
        ((number - 1) % every == 0, sequence % 2),
        ((number % 4) == 0, 2),
        else_=3,
    )

    def at(moment: datetime) -> object:
        return literal(moment, UTCDateTime)

    def day(value: date) -> object:
        return literal(value)

    columns = {
        "enterprise_id": literal(""),
        "team_id": literal("TB") + func.substr(cast(1000 + per_ws % workspaces, String()), 2),
        "number": number,
        "title": literal("Benchmark decision"),
        "owner_id": literal("UB") + cast(n % OWNERS, String()),
        "creator_id": literal("UB0"),
        "channel_id": literal("CB1"),
        "status": case((kind == 3, "decided"), else_="open"),
        "due_date": case(
            (kind == 0, day(today - timedelta(days=3))),
            (kind == 2, day(today + timedelta(days=10))),
            else_=None,
        ),
        "created_at": at(NOW - timedelta(days=120)),
        "updated_at": at(NOW - timedelta(days=1)),
        "last_activity_at": case(
            (kind == 0, at(NOW - timedelta(days=4))),
            (kind == 1, at(NOW - timedelta(days=20))),
            (kind == 3, at(NOW - timedelta(days=100))),
            else_=at(NOW - timedelta(days=1)),
        ),
        "decided_at": case((kind == 3, at(NOW - timedelta(days=100))), else_=None),
    }
    table = Decision.__table__
    async with db.transaction() as session:
        await session.execute(
            insert(table).from_select(
                list(columns), select(*[c.label(k) for k, c in columns.items()]).select_from(source)
            )
        )
    await settle(db)


async def settle(db: Database) -> None:
    """Let the database finish with the bulk load (statistics, dirty pages) before timing, as a
    long-running one would have; otherwise the load's aftermath is timed, not the tick."""
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if db.is_sqlite:
            await auto.execute(text("ANALYZE"))
        else:
            await auto.execute(text("VACUUM ANALYZE"))
            await auto.execute(text("CHECKPOINT"))


async def zone_of(_ws: WorkspaceKey, user_id: str) -> ZoneInfo:
    return ZONES[int(user_id[2:]) % len(ZONES)]


async def tick(db: Database, cadence: CadenceConfig) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = await plan_nudges(db, base=cadence, now=NOW, zone_of=zone_of)
    return time.perf_counter() - started, report.due, report.planned


async def measure(engine: str, total: int, *, due: int, workspaces: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(engine, f"bench_tick_{total}", Path(folder))
        db = Database(url)
        try:
            started = time.perf_counter()
            await load(db, total=total, due=due, workspaces=workspaces)
            loaded = time.perf_counter() - started
            async with db.transaction() as session:
                count = await session.scalar(select(func.count()).select_from(Decision))
            cadence = CadenceConfig()
            firsts, steadies = [], []
            await tick(db, cadence)  # warm the caches once, as a long-running worker has them
            for _ in range(repeat):
                async with db.transaction() as session:
                    await session.execute(delete(Delivery))
                gc.collect()
                seconds, found, planned = await tick(db, cadence)
                assert found == due and planned == due, (found, planned)
                firsts.append(seconds)
            for _ in range(repeat):
                gc.collect()
                seconds, found, planned = await tick(db, cadence)
                assert found == due and planned == 0, (found, planned)
                steadies.append(seconds)
            return {
                "decisions": count,
                "load_s": loaded,
                "first_s": statistics.median(firsts),
                "steady_s": statistics.median(steadies),
                "first_min_s": min(firsts),
                "steady_min_s": min(steadies),
            }
        finally:
            await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"engine={args.engine} due={args.due} workspaces={args.workspaces}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    results = {}
    for total in sizes:
        result = await measure(
            args.engine, total, due=args.due, workspaces=args.workspaces, repeat=args.repeat
        )
        results[total] = result
        print(
            f"{result['decisions']:>9,} decisions: loaded in {result['load_s']:.1f} s; "
            f"tick finding {args.due} due, median (min): "
            f"first {result['first_s'] * 1000:.0f} ({result['first_min_s'] * 1000:.0f}) ms, "
            f"steady {result['steady_s'] * 1000:.0f} ({result['steady_min_s'] * 1000:.0f}) ms"
        )
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        for name in ("first", "steady"):
            print(
                f"ratio {sizes[-1]:,}/{sizes[0]:,} {name}: "
                f"{large[name + '_s'] / small[name + '_s']:.2f}× median, "
                f"{large[name + '_min_s'] / small[name + '_min_s']:.2f}× min"
            )


if __name__ == "__main__":
    asyncio.run(main())
