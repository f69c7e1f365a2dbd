"""The worker's calendar step: fetch the feeds that are due, store their occurrences, and turn
the ones that ended into meetings.

A feed is fetched at most every `REFRESH` (10 minutes); after a failure it waits twice as long
each time (`backoff`), up to a day, and `list` shows the error. Fetches run a few at a time,
outside any transaction; each feed's result is stored in its own short transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.calendars import reconcile
from bot.calendars.fetch import Fetched, Fetcher, FetchError
from bot.calendars.ical import EventRules, Occurrence, parse_feed
from bot.calendars.models import CalendarFeed
from bot.calendars.secrets import SecretBox
from bot.db import Database
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

REFRESH = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=24)
#: A feed that answered "not modified" for this long is read again in full, so the window moves.
FULL_READ_EVERY = timedelta(hours=6)
#: How far back and ahead a feed is read: occurrences that ended before the feed was added (or
#: more than LOOKBACK ago) never become meetings.
LOOKBACK = timedelta(days=14)
HORIZON = timedelta(days=60)
CONCURRENCY = 8
BATCH = 500

EmailLookup = Callable[[WorkspaceKey, str], Awaitable[str | None]]
"""The Slack user with this email address (users.lookupByEmail), None when there is none."""


def backoff(failures: int) -> timedelta:
    """How long a feed waits after its ``failures``-th failure in a row: 20 min, 40 min, …"""
    wait: timedelta = REFRESH * (2 ** min(failures, 12))
    return min(wait, MAX_BACKOFF)


def event_rules(cadence: CadenceConfig) -> EventRules:
    rules = cadence.calendars
    return EventRules(include_all_day=rules.all_day_events, min_attendees=rules.min_attendees)


@dataclass
class PollReport:
    fetched: int = 0
    unchanged: int = 0
    failed: int = 0
    meetings: int = 0

    def add(self, other: PollReport) -> None:
        self.fetched += other.fetched
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.meetings += other.meetings


@dataclass(frozen=True, slots=True)
class _Due:
    id: int
    ws: WorkspaceKey
    channel_id: str
    url_secret: str
    etag: str | None
    last_modified: str | None
    last_synced_at: datetime | None
    created_at: datetime
    failures: int


@dataclass(frozen=True, slots=True)
class _Result:
    due: _Due
    fetched: Fetched | None = None
    occurrences: tuple[Occurrence, ...] = ()
    error: str | None = None
    start: datetime | None = None
    end: datetime | None = None


class CalendarPoller:
    def __init__(
        self,
        *,
        db: Database,
        fetcher: Fetcher,
        box: SecretBox | None,
        base: CadenceConfig,
        lookup_email: EmailLookup,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        self.box = box
        self.base = base
        self.lookup_email = lookup_email
        self._gate = asyncio.Semaphore(concurrency)

    async def __call__(self, now: datetime) -> PollReport:
        return await self.poll(now)

    async def poll(self, now: datetime) -> PollReport:
        report = PollReport()
        async with self.db.transaction() as session:
            live = await workspaces.active_workspaces(session)
        for ws in live:
            report.add(await self.poll_workspace(ws, now=now))
        return report

    async def poll_workspace(self, ws: WorkspaceKey, *, now: datetime) -> PollReport:
        report = PollReport()
        async with self.db.transaction() as session:
            cadence = await workspaces.cadence_for(session, ws=ws, base=self.base)
            rows = (
                await session.execute(
                    select(
                        CalendarFeed.id,
                        CalendarFeed.channel_id,
                        CalendarFeed.url_secret,
                        CalendarFeed.etag,
                        CalendarFeed.last_modified,
                        CalendarFeed.last_synced_at,
                        CalendarFeed.created_at,
                        CalendarFeed.failures,
                    )
                    .where(CalendarFeed.in_workspace(ws), CalendarFeed.next_fetch_at <= now)
                    .order_by(CalendarFeed.next_fetch_at)
                    .limit(BATCH)
                )
            ).all()
        due = [_Due(row[0], ws, *row[1:]) for row in rows]
        rules, zone = event_rules(cadence), cadence.zone
        if due and self.box is not None:
            results = await asyncio.gather(
                *(self._read(d, now=now, rules=rules, zone=zone) for d in due)
            )
            organizers = await self._organizers(ws, results)
            for result in results:
                await self._store(result, organizers=organizers, now=now, report=report)
        async with self.db.transaction() as session:
            report.meetings = await reconcile.materialize(session, ws=ws, now=now)
        return report

    async def _read(
        self, due: _Due, *, now: datetime, rules: EventRules, zone: ZoneInfo
    ) -> _Result:
        assert self.box is not None
        url = self.box.open(due.url_secret)
        if url is None:
            return _Result(
                due,
                error="The feed address cannot be decrypted (the encryption key changed); "
                "remove it and add it again.",
            )
        full = due.last_synced_at is None or now - due.last_synced_at >= FULL_READ_EVERY
        start = max(due.created_at, now - LOOKBACK)
        end = now + HORIZON
        async with self._gate:
            try:
                fetched = await self.fetcher.fetch(
                    url,
                    etag=None if full else due.etag,
                    last_modified=None if full else due.last_modified,
                )
                if fetched.body is None:
                    return _Result(due, fetched=fetched)
                body = fetched.body
                found = await asyncio.to_thread(
                    parse_feed, body, start=start, end=end, rules=rules, zone=zone
                )
            except FetchError as exc:
                return _Result(due, error=str(exc))
        return _Result(due, fetched=fetched, occurrences=tuple(found), start=start, end=end)

    async def _organizers(self, ws: WorkspaceKey, results: list[_Result]) -> dict[str, str | None]:
        emails = {o.organizer_email for r in results for o in r.occurrences if o.organizer_email}
        found: dict[str, str | None] = {}
        for email in sorted(emails):
            found[email] = await self.lookup_email(ws, email)
        return found

    async def _store(
        self,
        result: _Result,
        *,
        organizers: dict[str, str | None],
        now: datetime,
        report: PollReport,
    ) -> None:
        due = result.due
        async with self.db.transaction() as session:
            feed = await session.scalar(
                select(CalendarFeed).where(
                    CalendarFeed.in_workspace(due.ws), CalendarFeed.id == due.id
                )
            )
            if feed is None:  # removed while it was being fetched
                return
            feed.last_fetched_at = now
            if result.error is not None or result.fetched is None:
                feed.failures = due.failures + 1
                feed.last_error = result.error
                feed.next_fetch_at = now + backoff(feed.failures)
                report.failed += 1
                log.info("calendar feed %s in %s failed: %s", due.id, due.ws, result.error)
                return
            feed.failures = 0
            feed.last_error = None
            feed.next_fetch_at = now + REFRESH
            feed.etag = result.fetched.etag
            feed.last_modified = result.fetched.last_modified
            if result.fetched.body is None:
                report.unchanged += 1
                return
            assert result.start is not None and result.end is not None
            feed.events = await reconcile.sync_feed(
                session,
                ws=due.ws,
                feed_id=due.id,
                channel_id=due.channel_id,
                found=result.occurrences,
                organizers=organizers,
                start=result.start,
                end=result.end,
                now=now,
            )
            feed.last_synced_at = now
            report.fetched += 1
