"""``python -m bot serve``: the web process (HTTP, or Socket Mode with a health endpoint)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import uvicorn
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette

from bot.cadence.config import CadenceConfig
from bot.clock import SystemClock
from bot.db import Database
from bot.delivery.pacing import Pacing
from bot.migrate import SchemaStatus
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.client import SLACK_PAUSES, RetryPauses
from bot.slack.compose import default_composers
from bot.slack.deps import Deps
from bot.slack.sender import Sender, SlackClients, token_source
from bot.startup import listen, started_line
from bot.web import SlackGate, create_web_app, settle_heap

log = logging.getLogger(__name__)


def build_deps(settings: Settings, cadence: CadenceConfig) -> Deps:
    return Deps(
        db=Database(settings.database_url),
        clock=SystemClock(),
        cadence=cadence,
        calendars=settings.calendar_options(),
    )


@dataclass(frozen=True, slots=True)
class Wired:
    """The web process's parts: what ``serve`` runs, and what tests and the shell drive."""

    deps: Deps
    bolt: AsyncApp
    web: Starlette

    async def close(self) -> None:
        """Close the HTTP sessions the app opened (Bolt's client, the outbox's clients)."""
        if self.bolt.client.session is not None:
            await self.bolt.client.session.close()
        if self.deps.outbox is not None:
            await self.deps.outbox.clients.close()
        await self.deps.follow_ups.close()


def wire(
    settings: Settings,
    deps: Deps,
    *,
    dispose_db: bool = True,
    pauses: RetryPauses = SLACK_PAUSES,
) -> Wired:
    """The one factory of the web app: ``serve``, the tests and the shell all build it here.

    The gate (signature, replay ledger), OAuth routes when configured, and the follow-ups
    queue (work after the ack waits until no Slack request awaits its acknowledgement) are
    wired the same way everywhere, so what is tested and benchmarked is what production runs.
    It also gives ``deps`` its outbox: the sender through which the web process delivers, right
    after the ack, the ledger rows its listeners planned. ``dispose_db=False`` leaves the
    database open when the app stops (a test's shared one). ``pauses`` are the Slack clients'
    pauses between retries: slack_sdk's own in production, none in tests.
    """
    if deps.outbox is None:
        deps.outbox = Sender(
            db=deps.db,
            clock=deps.clock,
            clients=SlackClients(settings, token_source(settings, deps.db), pauses=pauses),
            composers=default_composers(),
            cadence=deps.cadence,
            users=deps.users,
            pacing=Pacing.from_settings(settings),
        )
    bolt = build_app(settings, deps, pauses=pauses)
    web = create_web_app(
        bolt,
        deps.db,
        oauth=settings.oauth_mode,
        gate=SlackGate.for_settings(settings, deps.db),
        follow_ups=deps.follow_ups,
        dispose_db=dispose_db,
    )
    return Wired(deps=deps, bolt=bolt, web=web)


async def serve(settings: Settings, cadence: CadenceConfig, *, schema: SchemaStatus) -> None:
    """Serve until SIGTERM. ``schema`` is what the start-up check found (`bot.startup.check`:
    the database opens and is at this release's schema); a port that is taken is refused too."""
    listener = listen(settings.host, settings.port)
    wired = wire(settings, build_deps(settings, cadence))
    deps, bolt, web = wired.deps, wired.bolt, wired.web
    server = uvicorn.Server(
        uvicorn.Config(
            web,
            host=settings.host,
            port=settings.port,
            log_config=None,
            proxy_headers=True,
            access_log=False,
        )
    )
    settle_heap()
    where = f"{settings.host}:{settings.port}"
    if settings.slack_app_token is None:
        log.info(started_line("serve", f"Slack over HTTP on {where}", settings, schema))
        await server.serve(sockets=[listener])
        await _finish_follow_ups(deps)
        await wired.close()
        return
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    doing = f"Slack over Socket Mode, /healthz on {where}"
    log.info(started_line("serve", doing, settings, schema))
    await socket.connect_async()  # type: ignore[no-untyped-call]
    try:
        await server.serve(sockets=[listener])
    finally:
        await socket.close_async()  # type: ignore[no-untyped-call]
        await _finish_follow_ups(deps)
        await wired.close()
        await asyncio.sleep(0)


async def _finish_follow_ups(deps: Deps, within: float = 10.0) -> None:
    """Let the listener runs under way end and the channel posts for already-acknowledged
    commands go out before the process ends."""
    try:
        async with asyncio.timeout(within):
            await deps.in_flight.drain()
            await deps.follow_ups.drain()
    except TimeoutError:
        log.warning(
            "stopped with replies or card posts still under way; the worker will post the cards"
        )
