"""``python -m bot worker`` and ``python -m bot run-jobs``: the scheduler process and its one pass.

A tick plans, then sends. Planning steps (nudges, purging uninstalled workspaces, and whatever
else registers a step) write what is due into the deliveries ledger; the sender then delivers
every row that is due, including what a web process planned and did not get to send (a new
decision's channel card, bot/decisions/cards.py). All durable state is in the database, so a
tick can be run by a worker every minute, by cron through ``run-jobs``, or by both at once, and
a killed process loses nothing: its claimed rows come back when their leases run out.

The worker runs the tick on APScheduler 3's AsyncIOScheduler every minute. ``coalesce`` and
``max_instances=1`` mean a slow tick is never run twice at once and missed runs collapse into
one; ``misfire_grace_time`` lets a tick that starts a little late still run. SIGTERM or SIGINT
stops the schedule, lets the posts under way finish, gives the rest of the claimed rows back,
and exits well within the 30 seconds platforms allow before SIGKILL.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from bot.cadence.config import CadenceConfig
from bot.calendars.fetch import HttpFetcher
from bot.calendars.poll import CalendarPoller, EmailLookup
from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.delivery.pacing import Pacing
from bot.digest.planner import plan_digests
from bot.migrate import SchemaStatus
from bot.nudges.daily import HourOf, no_preference
from bot.nudges.planner import PlanReport, ZoneOf, plan_nudges
from bot.nudges.reviews import plan_reviews
from bot.settings import Settings
from bot.slack.client import SLACK_PAUSES, RetryPauses
from bot.slack.compose import Composers, default_composers
from bot.slack.sender import (
    Sender,
    SendReport,
    SlackClients,
    TokenFor,
    WorkspaceUnavailable,
    token_source,
)
from bot.slack.users import UserDirectory
from bot.startup import started_line
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

TICK_SECONDS = 60
# A tick that starts up to this late (a busy event loop, a paused container) still runs.
MISFIRE_GRACE_SECONDS = 30
# How long a stopping worker waits for posts under way before cancelling them.
STOP_GRACE_SECONDS = 20.0
EMAIL_CACHE_SECONDS = 3600.0

Step = Callable[[datetime], Awaitable[object]]
"""A planning step of the tick: given ``now``, put what is due into the ledger."""


class ShiftedClock:
    """Starts at a given moment and runs at real speed: ``run-jobs --now`` lives in it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


def zone_lookup(clients: SlackClients, users: UserDirectory) -> ZoneOf:
    """A person's Slack time zone (users.info, cached) for the planner; None when unknown."""

    # Workspaces whose lookups failed in the last minute: one line each, not one per person.
    failing: dict[WorkspaceKey, float] = {}

    async def zone_of(ws: WorkspaceKey, user_id: str) -> ZoneInfo | None:
        if failing.get(ws, 0.0) > time.monotonic():
            return None
        try:
            workspace_clients = await clients.for_workspace(ws)
            if workspace_clients is None:
                return None
            user = await users.get(workspace_clients.reader, team_id=ws.team_id, user_id=user_id)
        except WorkspaceUnavailable:
            # Logged once by SlackClients; the workspace's own zone stands in.
            failing[ws] = time.monotonic() + TICK_SECONDS
            return None
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            # The sender checks working hours again before posting, with a fresh lookup.
            failing[ws] = time.monotonic() + TICK_SECONDS
            log.warning("time zones in %s unknown for now (%s): %s", ws, user_id, exc)
            return None
        if not user.tz:
            return None
        try:
            return ZoneInfo(user.tz)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    return zone_of


@dataclass
class TickReport:
    planned: PlanReport = field(default_factory=PlanReport)
    sent: SendReport = field(default_factory=SendReport)
    steps: dict[str, object] = field(default_factory=dict)
    # Steps that raised (each logged once); the other steps ran all the same.
    failed_steps: list[str] = field(default_factory=list)
    # Workspaces a step skipped after a failure there, by step.
    failed_workspaces: collections.Counter[str] = field(default_factory=collections.Counter)
    # The database itself failed: the one thing that makes ``run-jobs`` exit non-zero.
    database_failed: bool = False

    def summary(self) -> str:
        s = self.sent
        line = (
            f"planned {self.planned.planned} new of {self.planned.due} due reminders in "
            f"{self.planned.workspaces} workspaces; sent {s.sent}, failed {s.failed}, "
            f"cancelled {s.cancelled}, retrying {s.retried}, deferred {s.deferred}"
        )
        troubles = [
            f"{step} failed in {n} workspace{'s' if n != 1 else ''}"
            for step, n in sorted(self.failed_workspaces.items())
        ]
        troubles += [f"{step} failed" for step in self.failed_steps]
        if self.database_failed:
            troubles.append("the database could not be reached")
        return line + (f"; {', '.join(troubles)}" if troubles else "")


class Jobs:
    """One tick's work and what it needs; `tick` is what the scheduler and run-jobs call."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        cadence: CadenceConfig,
        sender: Sender,
        zone_of: ZoneOf,
        clients: SlackClients | None = None,
        hour_of: HourOf = no_preference,
    ) -> None:
        self.db = db
        # Each person's reminder hour for their daily DM (None: the start of the working day).
        self.hour_of = hour_of
        self.clock = clock
        self.cadence = cadence
        self.sender = sender
        self.zone_of = zone_of
        self.clients = clients
        self.steps: dict[str, Step] = {
            "purge": self._purge,
            "reviews": self._plan_reviews,
            "digest": self._plan_digests,
        }
        # Steps that bring in meetings from elsewhere (calendar feeds) run before the nudges are
        # planned, so a meeting that ended is nudged about in the same tick.
        self.sources: dict[str, Step] = {}
        self.closers: list[Callable[[], Awaitable[None]]] = []
        self._running: asyncio.Task[Any] | None = None
        self._report: TickReport | None = None

    def add_source(self, name: str, step: Step) -> None:
        """Register a step that runs before the nudges are planned (a calendar poller, say)."""
        if name in self.sources or name in self.steps:
            raise ValueError(f"a tick step named {name!r} exists already")
        self.sources[name] = step

    async def tick(self) -> TickReport:
        """Plan what is due now, then send what is due; one at a time per process.

        Every step runs whatever happened in the one before: a step that raises is logged once
        and named in the report. When anything failed, the database is asked ``SELECT 1``; if
        that fails too, ``database_failed`` is set (``run-jobs`` then exits non-zero).
        """
        self._running = asyncio.current_task()
        try:
            report = self._report = TickReport()
            now = self.clock.now()
            for name, source in self.sources.items():
                await self._step(report, name, source, now)
            await self._step(report, "nudges", self._plan_nudges, now)
            for name, step in self.steps.items():
                await self._step(report, name, step, now)
            if not self.sender.stopping:
                await self._step(report, "send", self._send, now)
            if report.failed_steps or report.failed_workspaces:
                report.database_failed = not await self._database_answers()
            log.info("tick at %s: %s", now.isoformat(timespec="seconds"), report.summary())
            return report
        finally:
            self._running = None
            self._report = None

    async def _step(self, report: TickReport, name: str, step: Step, now: datetime) -> None:
        try:
            report.steps[name] = await step(now)
        except Exception:
            log.exception("tick step %r failed; the other steps go on", name)
            report.failed_steps.append(name)

    async def _database_answers(self) -> bool:
        try:
            async with self.db.transaction() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            log.error("the database does not answer: %s", exc)
            return False
        return True

    async def _plan_nudges(self, now: datetime) -> object:
        assert self._report is not None
        planned = await plan_nudges(
            self.db, base=self.cadence, now=now, zone_of=self.zone_of, hour_of=self.hour_of
        )
        self._report.planned = planned
        if planned.failed:
            self._report.failed_workspaces["nudges"] += planned.failed
        return planned

    async def _plan_reviews(self, now: datetime) -> object:
        """ "Did D-12 hold?" questions whose review day has come (bot/nudges/reviews.py)."""
        planned = await plan_reviews(self.db, base=self.cadence, now=now, zone_of=self.zone_of)
        if planned.failed and self._report is not None:
            self._report.failed_workspaces["reviews"] += planned.failed
        return planned

    async def _send(self, _now: datetime) -> object:
        assert self._report is not None
        sent = await self.sender.send_due()
        self._report.sent = sent
        if sent.unavailable:
            self._report.failed_workspaces["send"] += sent.unavailable
        return sent

    async def _plan_digests(self, now: datetime) -> object:
        failed: list[WorkspaceKey] = []
        async with self.db.transaction() as session:
            planned = await plan_digests(session, now=now, base=self.cadence, failed=failed)
        if failed and self._report is not None:
            self._report.failed_workspaces["digest"] += len(failed)
        return planned

    async def _purge(self, now: datetime) -> object:
        async with self.db.transaction() as session:
            return await workspaces.purge_due_workspaces(session, now=now)

    async def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop sending; wait up to ``grace`` seconds for the tick under way, then cancel it."""
        self.sender.stop()
        running = self._running
        if running is None or running.done():
            return
        _, pending = await asyncio.wait({running}, timeout=grace)
        if pending:
            log.warning("the tick did not finish in %.0f s; cancelling it", grace)
            running.cancel()
            await asyncio.wait({running})

    async def close(self) -> None:
        for closer in self.closers:
            await closer()
        if self.clients is not None:
            await self.clients.close()
        await self.db.dispose()


def build_jobs(
    settings: Settings,
    cadence: CadenceConfig,
    clock: Clock,
    *,
    token_for: TokenFor | None = None,
    composers: Composers | None = None,
    pauses: RetryPauses = SLACK_PAUSES,
) -> Jobs:
    settings.require_slack()
    db = Database(settings.database_url)
    clients = SlackClients(settings, token_for or token_source(settings, db), pauses=pauses)
    users = UserDirectory()
    sender = Sender(
        db=db,
        clock=clock,
        clients=clients,
        composers=composers or default_composers(),
        cadence=cadence,
        users=users,
        pacing=Pacing.from_settings(settings),
    )
    jobs = Jobs(
        db=db,
        clock=clock,
        cadence=cadence,
        sender=sender,
        zone_of=zone_lookup(clients, users),
        clients=clients,
    )
    options = settings.calendar_options()
    fetcher = HttpFetcher(
        allow_private=options.allow_private,
        timeout=settings.calendar_fetch_timeout_seconds,
        max_bytes=settings.calendar_max_bytes,
    )
    jobs.add_source(
        "calendars",
        CalendarPoller(
            db=db,
            fetcher=fetcher,
            box=options.box,
            base=cadence,
            lookup_email=email_lookup(clients),
        ),
    )
    jobs.closers.append(fetcher.aclose)
    return jobs


def email_lookup(clients: SlackClients) -> EmailLookup:
    """A calendar organizer's Slack user (users.lookupByEmail); None when Slack has none.

    Answers are kept for an hour, so a feed read every ten minutes does not ask again each time.
    """
    cache: dict[tuple[WorkspaceKey, str], tuple[float, str | None]] = {}

    async def lookup(ws: WorkspaceKey, email: str) -> str | None:
        hit = cache.get((ws, email))
        if hit is not None and time.monotonic() - hit[0] < EMAIL_CACHE_SECONDS:
            return hit[1]
        found = await ask(ws, email)
        cache[(ws, email)] = (time.monotonic(), found)
        return found

    async def ask(ws: WorkspaceKey, email: str) -> str | None:
        workspace_clients = await clients.for_workspace(ws)
        if workspace_clients is None:
            return None
        try:
            answer = await workspace_clients.reader.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail in %s failed: %s", ws, exc.response.get("error"))
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("users.lookupByEmail in %s failed: %s", ws, exc)
            return None
        user = answer.get("user") or {}
        found = user.get("id")
        return str(found) if found else None

    return lookup


async def run_jobs(
    settings: Settings,
    cadence: CadenceConfig,
    *,
    schema: SchemaStatus,
    now: datetime | None = None,
) -> TickReport:
    """``run-jobs``: one tick as of ``now`` (default: the real now), then exit. ``schema`` is
    what the start-up check found (`bot.startup.check`)."""
    clock: Clock = ShiftedClock(now) if now is not None else SystemClock()
    jobs = build_jobs(settings, cadence, clock)
    moment = clock.now().isoformat(timespec="seconds")
    log.info(started_line("run-jobs", f"one pass as of {moment}", settings, schema))
    try:
        return await jobs.tick()
    finally:
        await jobs.close()


def schedule(scheduler: AsyncIOScheduler, jobs: Jobs) -> None:
    scheduler.add_job(
        jobs.tick,
        trigger=IntervalTrigger(seconds=TICK_SECONDS, timezone=UTC),
        id="tick",
        name="plan and send nudges",
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )


async def run_worker(
    settings: Settings,
    cadence: CadenceConfig,
    *,
    schema: SchemaStatus,
    stop: asyncio.Event | None = None,
) -> None:
    """``worker``: tick every minute until SIGTERM or SIGINT (or ``stop`` is set). ``schema`` is
    what the start-up check found (`bot.startup.check`)."""
    jobs = build_jobs(settings, cadence, SystemClock())
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    scheduler = AsyncIOScheduler(timezone=UTC)
    schedule(scheduler, jobs)
    scheduler.start()
    log.info(started_line("worker", f"a tick every {TICK_SECONDS} s", settings, schema))
    try:
        await stop.wait()
        log.info("stopping: finishing the posts under way")
    finally:
        scheduler.pause()
        await jobs.stop()
        scheduler.shutdown(wait=False)
        for signum in signals:
            loop.remove_signal_handler(signum)
        await jobs.close()
        log.info("worker stopped")
