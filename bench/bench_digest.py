"""Benchmark: the weekly digest's figures for a workspace with 100k decisions and 20k meetings.

Loads two years of history into a fresh database of each engine (bulk executemany; on
PostgreSQL then VACUUM ANALYZE, as autovacuum would leave it), then times what composing one
person's DM digest asks of the database, part by part, exactly as
`bot.slack.digest_compose.compose_digest` runs them (Slack calls excluded): the channels in play,
eight weeks of figures (outcome rate, decisions opened/decided/dropped, median time to decision,
reviews due/held/reversed and the reversal rate; stalled and overdue at the last two ends), the
per-channel breakdown, the oldest stalled decisions, the last digest's stored figures, the
calendar meetings (issue 19), and the follow-through figures (follow-through rate, decision to
done, topics decided again: two weeks and per channel; orphans now with the oldest ten). The
chart is timed on its own. Target: figures under 1 s on both engines.

    .venv/bin/python -m bench.bench_digest --engine sqlite --engine postgres

A second, smaller workspace shares the tables so every query has to filter by workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench.bench_commands import fresh_database
from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.decisions.models import Decision, DecisionEvent, DecisionReview
from bot.digest import metrics, reports, schedule
from bot.digest.audience import Audience
from bot.digest.chart import TrendPoint, trend_chart
from bot.meetings.models import Meeting, Outcome
from bot.slack import digest_compose
from bot.workspace import WorkspaceKey

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday: the digest for 23–29 Nov is due
SPAN = timedelta(weeks=104)
MAIN = WorkspaceKey("TBENCH")
NOISE = WorkspaceKey("TNOISE")
BATCH = 5_000


def _moment(rng: random.Random) -> datetime:
    return NOW - SPAN + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))


def _rows(
    ws: WorkspaceKey,
    *,
    decisions: int,
    meetings: int,
    channels: int,
    rng: random.Random,
    first_id: int,
) -> tuple[list[dict[str, Any]], ...]:
    key = {"enterprise_id": ws.enterprise_id, "team_id": ws.team_id}
    channel_ids = [f"C{n:06d}" for n in range(channels)]
    meeting_rows, outcome_rows = [], []
    action_number = 0
    for n in range(meetings):
        meeting_id = first_id + n
        ended = _moment(rng)
        waived = rng.random() < 0.15
        meeting_rows.append(
            {
                **key,
                "id": meeting_id,
                "number": n + 1,
                "title": f"Meeting {n + 1}",
                "organizer_id": f"U{rng.randrange(200):05d}",
                "channel_id": rng.choice(channel_ids),
                "started_at": ended - timedelta(hours=1),
                "ended_at": ended,
                "no_outcome_reason": "Status update" if waived else None,
                "no_outcome_by": "U00001" if waived else None,
                "no_outcome_at": ended if waived else None,
                "created_at": ended - timedelta(hours=1),
            }
        )
        if waived or rng.random() < 0.3:
            continue
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(("note", "action", "action"))
            due = (ended + timedelta(days=rng.randint(2, 14))).date() if kind == "action" else None
            done = None
            if kind == "action" and rng.random() < 0.7:
                done = min(ended + timedelta(days=rng.uniform(0.5, 20)), NOW)
            if kind == "action":
                action_number += 1
            outcome_rows.append(
                {
                    **key,
                    "meeting_id": meeting_id,
                    "number": action_number if kind == "action" else None,
                    "kind": kind,
                    "text": "Follow up",
                    "owner_id": f"U{rng.randrange(200):05d}",
                    "due_date": due,
                    "creator_id": "U00001",
                    "created_at": ended + timedelta(minutes=10),
                    "updated_at": ended + timedelta(minutes=10),
                    "done_at": done,
                    "done_by": "U00002" if done else None,
                    "decision_id": None,
                }
            )
    decision_rows, event_rows, review_rows = [], [], []
    answers = ("kept",) * 12 + ("amended",) * 3 + ("reversed",) * 3 + ("too_early",) * 2
    for n in range(decisions):
        decision_id = first_id + n
        created = _moment(rng)
        roll = rng.random()
        decided = dropped = None
        if roll < 0.55:
            decided = min(created + timedelta(days=rng.expovariate(1 / 4)), NOW)
        elif roll < 0.65:
            dropped = min(created + timedelta(days=rng.expovariate(1 / 10)), NOW)
        closed = decided or dropped
        last_activity = closed or created + (NOW - created) * rng.random()
        status = "decided" if decided else "dropped" if dropped else "open"
        owner = f"U{rng.randrange(200):05d}"
        due = (created + timedelta(days=rng.randint(1, 30))).date() if rng.random() < 0.5 else None
        # A fifth of decided decisions have a review day 30 to 90 days on; four in five of
        # those that came have been answered, within three days.
        review_on = None
        if decided and rng.random() < 0.2:
            review_on = (decided + timedelta(days=rng.randint(30, 90))).date()
            answered = datetime(review_on.year, review_on.month, review_on.day, 10, tzinfo=UTC)
            answered += timedelta(days=rng.uniform(0, 3))
            if answered < NOW and rng.random() < 0.8:
                answer = rng.choice(answers)
                review_rows.append(
                    {
                        **key,
                        "decision_id": decision_id,
                        "answer": answer,
                        "actor_id": owner,
                        "due_on": review_on,
                        "answered_at": answered,
                    }
                )
                if answer == "reversed":
                    status = "reversed"
                review_on = None if answer != "too_early" else review_on + timedelta(days=14)
        decision_rows.append(
            {
                **key,
                "id": decision_id,
                "number": n + 1,
                "title": f"Decision {n + 1}",
                "owner_id": owner,
                "creator_id": owner,
                "channel_id": rng.choice(channel_ids),
                "status": status,
                "resolution": "Done" if decided else None,
                "due_date": due,
                "created_at": created,
                "updated_at": last_activity,
                "last_activity_at": last_activity,
                "decided_at": decided,
                "dropped_at": dropped,
                "no_action_reason": None,
                "no_action_by": None,
                "no_action_at": None,
                "review_on": review_on,
            }
        )
        follow = rng.random()
        if decided and follow < 0.4 and outcome_rows:
            # A follow-through action (issue 17): an action item that serves this decision.
            action = rng.choice(outcome_rows)
            if action["kind"] == "action" and action["decision_id"] is None:
                action["decision_id"] = decision_id
        elif decided and follow < 0.6:
            decision_rows[-1].update(
                no_action_reason="Nothing to do",
                no_action_by=owner,
                no_action_at=min(decided + timedelta(days=rng.uniform(0, 5)), NOW),
            )
        event_rows.append(
            {
                **key,
                "decision_id": decision_id,
                "actor_id": owner,
                "action": "created",
                "detail": {"owner": owner, "due": due.isoformat() if due else None},
                "at": created,
            }
        )
        if not closed and last_activity > created:
            # The history agrees with the row: an open decision's last activity is an entry.
            event_rows.append(
                {
                    **key,
                    "decision_id": decision_id,
                    "actor_id": owner,
                    "action": "snoozed",
                    "detail": {"until": last_activity.isoformat()},
                    "at": last_activity,
                }
            )
        if closed:
            event_rows.append(
                {
                    **key,
                    "decision_id": decision_id,
                    "actor_id": owner,
                    "action": status,
                    "detail": {},
                    "at": closed,
                }
            )
        if decided and rng.random() < 0.05:
            # A decide undone later (issue 18, "topics decided again"): a supersede or reopen.
            event_rows.append(
                {
                    **key,
                    "decision_id": decision_id,
                    "actor_id": owner,
                    "action": rng.choice(("superseded", "reopened")),
                    "detail": {},
                    "at": min(decided + timedelta(days=rng.expovariate(1 / 30)), NOW),
                }
            )
    return meeting_rows, outcome_rows, decision_rows, event_rows, review_rows


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def load(db: Database, *, decisions: int, meetings: int, channels: int) -> dict[str, int]:
    rng = random.Random(20261130)
    counts: dict[str, int] = {}
    plan = [
        (MAIN, decisions, meetings, channels, 1),
        (NOISE, decisions // 10, meetings // 10, 5, 10_000_000),
    ]
    for ws, n_decisions, n_meetings, n_channels, first_id in plan:
        tables = _rows(
            ws,
            decisions=n_decisions,
            meetings=n_meetings,
            channels=n_channels,
            rng=rng,
            first_id=first_id,
        )
        meeting_rows, outcome_rows, decision_rows, event_rows, review_rows = tables
        # Parents first: outcomes name their decision (decision_id), reviews theirs.
        for table, rows in (
            (Meeting, meeting_rows),
            (Decision, decision_rows),
            (Outcome, outcome_rows),
            (DecisionEvent, event_rows),
            (DecisionReview, review_rows),
        ):
            async with db.engine.begin() as conn:
                for batch in _batches(rows):
                    await conn.execute(insert(table.__table__), batch)
            counts[table.__tablename__] = counts.get(table.__tablename__, 0) + len(rows)
    if not db.is_sqlite:
        # As autovacuum leaves a table that has settled: statistics, and the visibility map
        # that lets an index-only scan skip the rows (SQLite needs neither).
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")
    return counts


#: A person's DM digest, the widest audience: public channels and that person's DM items.
RECIPIENT = "U00001"


async def digest_figures(
    db: Database, cadence: CadenceConfig, parts: dict[str, list[float]] | None = None
) -> int:
    """What one digest asks of the database, part by part as `compose_digest` runs them for a
    person's DM digest; returns how many channels it covered. ``parts`` collects each part's
    seconds under its name."""
    week = schedule.reported_week(NOW, cadence)
    weeks = schedule.weeks_ending(week, schedule.TREND_WEEKS, cadence)
    before = weeks[-2]
    timed = _Parts(parts)
    async with db.transaction() as session, timed("channels in play"):
        visible = await metrics.channels_in_play(session, ws=MAIN, since=weeks[0].start)
    audience = Audience(frozenset(visible), person=RECIPIENT)
    async with db.transaction() as session:
        async with timed("eight weeks (series)"):
            await metrics.series_figures(
                session,
                ws=MAIN,
                cadence=cadence,
                bounds=schedule.bounds_of(weeks),
                now=NOW,
                channels=audience,
            )
        async with timed("per channel"):
            await metrics.channel_figures(
                session,
                ws=MAIN,
                cadence=cadence,
                start=week.start,
                end=week.end,
                now=NOW,
                channels=audience,
            )
        async with timed("oldest stalled"):
            await metrics.oldest_stalled(
                session, ws=MAIN, cadence=cadence, at=week.end, channels=audience, limit=10
            )
        async with timed("stored report"):
            await reports.reported(
                session, ws=MAIN, recipient=RECIPIENT, start=before.start, end=before.end
            )
        async with timed("calendar meetings"):
            await digest_compose._calendar_rows(
                session,
                ws=MAIN,
                channels=visible,
                current=(week.start, week.end),
                previous=(before.start, before.end),
            )
        async with timed("follow-through"):
            await follow_through_figures(session, cadence, audience, timed)
    return len(visible)


class _Parts:
    """``async with parts("name"):`` adds the block's seconds to ``name``'s list."""

    def __init__(self, into: dict[str, list[float]] | None) -> None:
        self.into = into

    def __call__(self, name: str) -> _Part:
        return _Part(self.into, name)


class _Part:
    def __init__(self, into: dict[str, list[float]] | None, name: str) -> None:
        self.into, self.name = into, name

    async def __aenter__(self) -> None:
        self.started = time.perf_counter()

    async def __aexit__(self, *_: object) -> None:
        if self.into is not None:
            self.into.setdefault(self.name, []).append(time.perf_counter() - self.started)


async def follow_through_figures(
    session: AsyncSession, cadence: CadenceConfig, audience: Audience, timed: _Parts
) -> None:
    """The digest's follow-through part (issue 17) and topics decided again (issue 18), as
    `digest_compose._follow_through` asks for them: the reported week and the week before as
    one series, the reported week per channel, orphans now with the oldest ten."""
    week = schedule.reported_week(NOW, cadence)
    weeks = schedule.weeks_ending(week, 2, cadence)
    async with timed("  follow-through rate, decision to done, decided again (two weeks)"):
        await metrics.follow_through_figures(
            session,
            ws=MAIN,
            cadence=cadence,
            bounds=schedule.bounds_of(weeks),
            channels=audience,
        )
    async with timed("  the same per channel"):
        await metrics.follow_through_figures(
            session,
            ws=MAIN,
            cadence=cadence,
            bounds=[week.start, week.end],
            channels=audience,
            by_channel=True,
        )
    async with timed("  orphans now"):
        await metrics.orphans_at(
            session, ws=MAIN, cadence=cadence, at=NOW, channels=audience, limit=10
        )


async def review_figures(db: Database, cadence: CadenceConfig) -> None:
    """The review figures' own part of the above (issue 17): the eight weeks and the
    reported week per channel, timed apart to show what they add."""
    week = schedule.reported_week(NOW, cadence)
    weeks = schedule.weeks_ending(week, schedule.TREND_WEEKS, cadence)
    async with db.transaction() as session:
        for bounds, by_channel in (
            (schedule.bounds_of(weeks), False),
            ([week.start, week.end], True),
        ):
            await metrics._review_counts(
                session,
                ws=MAIN,
                cadence=cadence,
                query=metrics._Grouping(bounds=bounds, channels=None, by_channel=by_channel),
                tallies=defaultdict(metrics._Tally),
            )


async def run(engine: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    url = await fresh_database(engine, "followthrough_bench_digest", folder)
    db = Database(url)
    try:
        started = time.perf_counter()
        counts = await load(
            db, decisions=args.decisions, meetings=args.meetings, channels=args.channels
        )
        load_seconds = time.perf_counter() - started
        cadence = CadenceConfig(timezone="Europe/Berlin")
        channels = await digest_figures(db, cadence)  # warm caches and prepared statements
        timings: list[float] = []
        parts: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            await digest_figures(db, cadence, parts)
            timings.append(time.perf_counter() - started)
        reviews = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            await review_figures(db, cadence)
            reviews.append(time.perf_counter() - started)
    finally:
        await db.dispose()
    return {
        "engine": engine,
        "counts": counts,
        "load": load_seconds,
        "channels": channels,
        "median": statistics.median(timings),
        "max": max(timings),
        "follow_median": statistics.median(parts["follow-through"]),
        "follow_max": max(parts["follow-through"]),
        "parts": {name: statistics.median(values) for name, values in parts.items()},
        "reviews": statistics.median(reviews),
    }


def chart_seconds(repeat: int) -> float:
    points = [TrendPoint(f"{d} Oct", 50 + d, timedelta(days=d / 7)) for d in range(1, 9)]
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        trend_chart(points, title="Outcome rate and time to decision")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--meetings", type=int, default=20_000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for engine in args.engine or ["sqlite", "postgres"]:
            results.append(await run(engine, args, Path(folder)))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        "| engine | rows (main + noise workspace) | load | channels | figures median | max "
        "| of which follow-through, median | max |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        rows = ", ".join(f"{n} {table}" for table, n in r["counts"].items())
        print(
            f"| {r['engine']} | {rows} | {r['load']:.1f} s | {r['channels']} | "
            f"{r['median'] * 1000:.0f} ms | {r['max'] * 1000:.0f} ms | "
            f"{r['follow_median'] * 1000:.0f} ms | {r['follow_max'] * 1000:.0f} ms |"
        )
    print()
    print("| part (median) | " + " | ".join(r["engine"] for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for name in results[0]["parts"]:
        cells = " | ".join(f"{r['parts'][name] * 1000:.0f} ms" for r in results)
        print(f"| {name} | {cells} |")
    for r in results:
        print(f"{r['engine']}: review figures alone {r['reviews'] * 1000:.0f} ms (median)")
    print(f"chart render: {chart_seconds(args.repeat) * 1000:.0f} ms (median)")


if __name__ == "__main__":
    asyncio.run(main())
