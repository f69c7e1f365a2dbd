"""``python -m bot serve``: the web process (HTTP, or Socket Mode with a health endpoint)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from bot.cadence.config import CadenceConfig
from bot.clock import SystemClock
from bot.db import Database
from bot.migrate import SchemaStatus
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import Deps
from bot.startup import listen, started_line
from bot.web import SlackGate, create_web_app, settle_heap

log = logging.getLogger(__name__)


def build_deps(settings: Settings, cadence: CadenceConfig) -> Deps:
    return Deps(db=Database(settings.database_url), clock=SystemClock(), cadence=cadence)


async def serve(settings: Settings, cadence: CadenceConfig, *, schema: SchemaStatus) -> None:
    """Serve until SIGTERM. ``schema`` is what the start-up check found (`bot.startup.check`:
    the database opens and is at this release's schema); a port that is taken is refused too."""
    listener = listen(settings.host, settings.port)
    deps = build_deps(settings, cadence)
    bolt = build_app(settings, deps)
    web = create_web_app(
        bolt,
        deps.db,
        oauth=settings.oauth_mode,
        gate=SlackGate.for_settings(settings, deps.db),
        follow_ups=deps.follow_ups,
    )
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
