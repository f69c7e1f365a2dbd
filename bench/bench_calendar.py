"""Benchmark: one worker tick that polls 200 calendar feeds of 500 events each and reconciles
them (occurrences stored, the ended ones turned into meetings).

Each feed is a distinct .ics of ``--events`` one-off events with two attendees, spread over the
window a feed is read for (14 days back, 60 ahead), so about a fifth have ended and become
meetings. The feeds are served from loopback by an aiohttp server in this process; organizers
are looked up from memory (the worker asks Slack, cached for an hour). Timed: the first tick
(every feed new) and a second one ten minutes later (every feed answers 304 Not Modified).
Peak memory is the process's peak RSS (``ru_maxrss``) and the tracemalloc peak of the first
tick in a separate run.

    .venv/bin/python -m bench.bench_calendar --engine sqlite --feeds 20
    .venv/bin/python -m bench.bench_calendar --engine postgres            # 200 × 500
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import platform
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, insert, select

from bench.bench_commands import fresh_database
from bot.cadence.config import CadenceConfig
from bot.calendars import service
from bot.calendars.fetch import HttpFetcher
from bot.calendars.models import CalendarOccurrence
from bot.calendars.poll import CalendarPoller, PollReport
from bot.calendars.secrets import SecretBox
from bot.calendars.service import CalendarOptions
from bot.db import Database
from bot.meetings.models import Meeting
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ADDED = NOW - timedelta(days=14)
WS = WorkspaceKey(team_id="TCAL")
KEY = "bench-encryption-key-0123456789-abcdefgh"


def feed_body(feed: int, events: int) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    span = timedelta(days=74).total_seconds()
    for i in range(events):
        start = ADDED + timedelta(seconds=span * i / events)
        end = start + timedelta(minutes=45)
        lines += [
            "BEGIN:VEVENT",
            f"UID:f{feed}-e{i}@bench",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Meeting {i} of feed {feed}",
            f"ORGANIZER:mailto:person{i % 50}@example.com",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:someone@example.com",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


async def serve(bodies: dict[str, bytes]) -> tuple[web.AppRunner, str]:
    tags = {name: '"' + hashlib.sha256(b).hexdigest()[:16] + '"' for name, b in bodies.items()}

    async def handler(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.headers.get("If-None-Match") == tags[name]:
            return web.Response(status=304, headers={"ETag": tags[name]})
        return web.Response(
            body=bodies[name], headers={"Content-Type": "text/calendar", "ETag": tags[name]}
        )

    app = web.Application()
    app.router.add_get("/{name}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def run(engine: str, feeds: int, events: int, trace: bool) -> None:
    bodies = {f"feed-{i}.ics": feed_body(i, events) for i in range(feeds)}
    runner, base = await serve(bodies)
    box = SecretBox(KEY)
    with tempfile.TemporaryDirectory() as folder:
        url = await fresh_database(engine, "followthrough_bench_calendar", Path(folder))
        db = Database(url)
        try:
            async with db.transaction() as session:
                await session.execute(
                    insert(Workspace),
                    [
                        {"team_id": WS.team_id, "enterprise_id": "", "overrides": {}}
                        | {"installed_at": ADDED, "updated_at": ADDED}
                    ],
                )
                for i in range(feeds):
                    await service.add_feed(
                        session,
                        ws=WS,
                        channel_id=f"C{i % 10:03d}X{i}",
                        url=f"{base}/feed-{i}.ics",
                        added_by="U1",
                        options=CalendarOptions(box=box, allow_private=True),
                        now=ADDED,
                    )

            async def lookup(ws: WorkspaceKey, email: str) -> str | None:
                return "U" + email.split("@")[0].upper()[:20]

            fetcher = HttpFetcher(allow_private=True, timeout=30.0)
            poller = CalendarPoller(
                db=db, fetcher=fetcher, box=box, base=CadenceConfig(), lookup_email=lookup
            )
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            first: PollReport = await poller.poll(NOW)
            first_s = time.perf_counter() - started
            traced = tracemalloc.get_traced_memory()[1] if trace else 0
            tracemalloc.stop()
            started = time.perf_counter()
            steady = await poller.poll(NOW + timedelta(minutes=10))
            steady_s = time.perf_counter() - started
            await fetcher.aclose()
            async with db.transaction() as session:
                stored = await session.scalar(select(func.count()).select_from(CalendarOccurrence))
                made = await session.scalar(select(func.count()).select_from(Meeting))
        finally:
            await db.dispose()
    await runner.cleanup()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{engine}: {feeds} feeds × {events} events on Python {platform.python_version()}\n"
        f"  first tick:  {first_s:6.2f} s  {first}\n"
        f"  steady tick: {steady_s:6.2f} s  {steady}\n"
        f"  stored {stored} occurrences, made {made} meetings; peak RSS {rss_mib:.0f} MiB"
        + (f"; tracemalloc peak of the first tick {traced / 2**20:.0f} MiB" if trace else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--trace", action="store_true", help="measure with tracemalloc (slower)")
    args = parser.parse_args()
    asyncio.run(run(args.engine, args.feeds, args.events, args.trace))


if __name__ == "__main__":
    main()
