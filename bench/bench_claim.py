"""Benchmark: one ledger claim with the shared pacing conditions against the same claim without.

A ledger of ``--pending`` due rows across ``--workspaces`` workspaces (two conversations each
per 50 rows) and ``--sent`` rows sent during the last minute; each claim of 100 rows is rolled
back, so every one sees the same ledger. Both kinds of claim alternate in one run, so their
ratio holds on a loaded machine.

    .venv/bin/python -m bench.bench_claim --engine sqlite
    .venv/bin/python -m bench.bench_claim --engine postgres
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.bench_commands import fresh_database
from bot.db import Database
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.migrate import upgrade

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(args.engine, "bench_claim", Path(folder))
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            rows: list[dict[str, object]] = []
            for i in range(args.pending + args.sent):
                sent = i >= args.pending
                rows.append(
                    {
                        "enterprise_id": "",
                        "team_id": f"TB{i % args.workspaces:03d}",
                        "kind": "note",
                        "subject": str(i),
                        "recipient": f"U{i % (args.workspaces * 2)}",
                        "period": "p",
                        "status": "sent" if sent else "pending",
                        "due_at": NOW - timedelta(minutes=5),
                        "attempts": 1 if sent else 0,
                        "payload": {},
                        "sent_at": NOW - timedelta(seconds=i % 60) if sent else None,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
            async with db.transaction() as session:
                for start in range(0, len(rows), 1000):
                    await session.execute(insert(Delivery), rows[start : start + 1000])
            times: dict[str, list[float]] = {"without": [], "with": []}
            for _ in range(args.rounds):
                for name, limits in (("without", None), ("with", ledger.Limits())):
                    async with db.sessionmaker() as session:
                        await session.begin()
                        started = time.perf_counter()
                        claimed = await ledger.claim(
                            session, now=NOW, owner="bench", limit=100, limits=limits
                        )
                        times[name].append(time.perf_counter() - started)
                        assert claimed
                        await session.rollback()
        finally:
            await db.dispose()
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    print(
        f"engine={args.engine}: {args.pending:,} due, {args.sent:,} sent in the last minute, "
        f"{args.workspaces} workspaces; claim of 100, median of {args.rounds}: "
        f"without pacing {medians['without']:.1f} ms, with {medians['with']:.1f} ms "
        f"({medians['with'] / medians['without']:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--sent", type=int, default=2_000)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
