"""The production app, wired to a fake Slack and a local SQLite file, with nothing to sign up for.

`Sandbox` builds the same Bolt app, web app, database and worker tick that a deployment runs; the
only stand-ins are Slack itself (`FakeSlack` on loopback, answering the app's Web API calls) and
the clock (a `ManualClock` the sandbox moves). Requests go in through `SlackDriver`, signed like
Slack signs them. `Observer` reads back what the app did on the fake, in the order it did it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock, RunningClock
from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import Call, Ephemeral, FakeSlack, Message, UploadedFile
from bot.migrate import upgrade
from bot.server import wire
from bot.settings import Settings
from bot.shell.world import TEAM_ID, TEAM_NAME, World
from bot.slack.deps import Deps
from bot.worker import Jobs, TickReport, build_jobs

BOT_TOKEN = "xoxb-shell"
#: Longest wait for the work Bolt does after acknowledging a request.
SETTLE_SECONDS = 60.0


def database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def sandbox_settings(*, api_url: str, database: Path, config: Path | None) -> Settings:
    """Settings built in code: nothing is read from the environment or `.env` that could turn
    on OAuth or Socket Mode, or point the sandbox at a real workspace or database."""
    return Settings(
        _env_file=None,
        slack_signing_secret=secrets.token_hex(16),
        slack_bot_token=BOT_TOKEN,
        slack_client_id=None,
        slack_client_secret=None,
        slack_app_token=None,
        slack_api_url=api_url,
        database_url=database_url(database),
        followthrough_config=config,
        # A fixed key: the sandbox's database outlives one run, and its feeds stay readable.
        followthrough_encryption_key="sandbox-only-calendar-key-not-a-secret",
        log_level="WARNING",
    )


async def migrate(url: str) -> None:
    # Alembic's env.py runs its own event loop, which cannot nest inside this one.
    await asyncio.to_thread(upgrade, url)


@dataclass
class Sandbox:
    """The running app, its pretend Slack, its clock and its worker; `open` builds one."""

    settings: Settings
    deps: Deps
    clock: ManualClock
    fake: FakeSlack
    driver: SlackDriver
    world: World
    jobs: Jobs
    #: Where files the app uploads (exports, the trend chart) are saved, to be opened.
    files_dir: Path

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        *,
        database: Path,
        start: datetime,
        cadence: CadenceConfig,
        config: Path | None = None,
        world: World | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> AsyncIterator[Sandbox]:
        """``monotonic`` (e.g. `time.monotonic`) makes the clock run with real time from
        ``start``; without it the clock is frozen and moves only when told to."""
        world = world or World()
        # Message timestamps continue from the wall clock, so cards from earlier sessions
        # (their ts stored in the database) never collide with new ones.
        async with FakeSlack(
            team_id=TEAM_ID, team_name=TEAM_NAME, team_domain="sandbox", first_ts=time.time()
        ) as fake:
            world.populate(fake)
            settings = sandbox_settings(api_url=fake.api_url, database=database, config=config)
            await migrate(settings.database_url)
            clock = (
                ManualClock(start)
                if monotonic is None
                else RunningClock(start, monotonic=monotonic)
            )
            deps = Deps(
                db=Database(settings.database_url),
                clock=clock,
                cadence=cadence,
                calendars=settings.calendar_options(),
            )
            wired = wire(settings, deps)
            web = wired.web
            jobs = build_jobs(settings, cadence, clock)
            signing_secret = settings.slack_signing_secret
            assert signing_secret is not None
            transport = httpx.ASGITransport(app=web)
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://sandbox"
                ) as http:
                    driver = SlackDriver(
                        http,
                        signing_secret=signing_secret.get_secret_value(),
                        team_id=TEAM_ID,
                        response_url_for=fake.response_url,
                    )
                    files_dir = database.parent / "sandbox-files"
                    sandbox = cls(settings, deps, clock, fake, driver, world, jobs, files_dir)
                    yield sandbox
                    await sandbox.settle()
            finally:
                await jobs.close()
                await wired.close()
                await deps.db.dispose()

    async def settle(self, within: float = SETTLE_SECONDS) -> None:
        """Wait for what Bolt runs after acknowledging (channel posts, modals, replies)."""
        await self.deps.in_flight.drain(within)
        await self.deps.follow_ups.drain()

    async def run_due_jobs(self, now: datetime) -> TickReport:
        """One worker tick as of ``now``: plan what is due into the ledger and send it."""
        self.clock.set(now)
        return await self.jobs.tick()


# --- what the app did ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    edited: bool = False


@dataclass(frozen=True, slots=True)
class Whispered:
    """An ephemeral message, seen by one person only."""

    ephemeral: Ephemeral


@dataclass(frozen=True, slots=True)
class ViewShown:
    view: dict[str, Any]
    how: str  # "open", "push" or "update"


@dataclass(frozen=True, slots=True)
class HomePublished:
    user_id: str
    view: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FileShared:
    file: UploadedFile


@dataclass(frozen=True, slots=True)
class Deleted:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A Web API call Slack answered with an error."""

    call: Call


@dataclass(frozen=True, slots=True)
class Responded:
    """A body posted to a response_url (Bolt's ``respond()``)."""

    url_key: str
    body: dict[str, Any]


Change = Posted | Whispered | ViewShown | HomePublished | FileShared | Deleted | Refused | Responded

# Calls that only read; they are not shown, even when they fail.
_READS = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.info",
        "conversations.members",
        "conversations.open",
        "chat.getPermalink",
        "team.info",
        "files.getUploadURLExternal",
    }
)


class Observer:
    """Reads the fake Slack's records and reports what changed since the last look, in order."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._calls = 0
        self._responses = 0
        self._ephemerals = 0
        self._messages: set[tuple[str, str]] = set()
        self._views: set[str] = set()
        self._files: set[str] = set()
        self.mark()

    def mark(self) -> None:
        fake = self.fake
        self._calls = len(fake.calls)
        self._responses = len(fake.responses)
        self._ephemerals = len(fake.ephemerals)
        self._messages = set(fake.messages)
        self._views = set(fake.views)
        self._files = set(fake.files)

    def changes(self) -> list[Change]:
        fake = self.fake
        new_messages = [m for key, m in fake.messages.items() if key not in self._messages]
        new_ephemerals = list(fake.ephemerals[self._ephemerals :])
        new_views = [v for key, v in fake.views.items() if key not in self._views]
        new_files = [f for key, f in fake.files.items() if key not in self._files]
        found: list[Change] = []
        for call in fake.calls[self._calls :]:
            if not call.ok:
                if call.method not in _READS and call.error != "connection_dropped":
                    found.append(Refused(call))
                continue
            found += self._result(call, new_messages, new_ephemerals, new_views, new_files)
        found += [Responded(r.key, r.body) for r in fake.responses[self._responses :]]
        self.mark()
        return found

    def _result(
        self,
        call: Call,
        messages: list[Message],
        ephemerals: list[Ephemeral],
        views: list[dict[str, Any]],
        files: list[UploadedFile],
    ) -> list[Change]:
        params = call.params
        match call.method:
            case "chat.postMessage":
                channel = _conversation(str(params.get("channel", "")))
                message = next((m for m in messages if m.channel == channel), None)
                if message is not None:
                    messages.remove(message)
                    return [Posted(message)]
            case "chat.update":
                key = (str(params.get("channel", "")), str(params.get("ts", "")))
                if key in self.fake.messages:
                    return [Posted(self.fake.messages[key], edited=True)]
            case "chat.postEphemeral":
                if ephemerals:
                    return [Whispered(ephemerals.pop(0))]
            case "chat.delete":
                return [Deleted(str(params.get("channel", "")), str(params.get("ts", "")))]
            case "views.open" | "views.push":
                if views:
                    return [
                        ViewShown(views.pop(0), "open" if call.method == "views.open" else "push")
                    ]
            case "views.update":
                view = self._updated_view(params)
                if view is not None:
                    return [ViewShown(view, "update")]
            case "views.publish":
                user_id = str(params.get("user_id", ""))
                home = self.fake.published_home.get(user_id)
                if home is not None:
                    return [HomePublished(user_id, home)]
            case "files.completeUploadExternal":
                count = len(params.get("files") or [])
                shared, files[:count] = files[:count], []
                return [FileShared(f) for f in shared]
        return []

    def _updated_view(self, params: dict[str, Any]) -> dict[str, Any] | None:
        view_id = params.get("view_id")
        if view_id:
            return self.fake.views.get(str(view_id))
        external = params.get("external_id")
        return next((v for v in self.fake.views.values() if v.get("external_id") == external), None)


def _conversation(channel: str) -> str:
    """Where the fake files a post: a user id means that person's DM with the app."""
    return f"D{channel}" if channel[:1] in ("U", "W") else channel


def ack_body(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON an acknowledgement carried, if any (Slack shows or applies it)."""
    if not response.content:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else None
