"""``python -m bot serve``: the web process (HTTP, or Socket Mode with a health endpoint)."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from bot.cadence.config import CadenceConfig
from bot.clock import SystemClock
from bot.db import Database
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.deps import Deps
from bot.web import create_web_app, settle_heap

log = logging.getLogger(__name__)


def build_deps(settings: Settings, cadence: CadenceConfig) -> Deps:
    return Deps(db=Database(settings.database_url), clock=SystemClock(), cadence=cadence)


async def serve(settings: Settings, cadence: CadenceConfig) -> None:
    deps = build_deps(settings, cadence)
    bolt = build_app(settings, deps)
    web = create_web_app(bolt, deps.db, oauth=settings.oauth_mode)
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
    if settings.slack_app_token is None:
        log.info("serving Slack over HTTP on %s:%s", settings.host, settings.port)
        await server.serve()
        await _finish_follow_ups(deps)
        return
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    log.info(
        "connecting to Slack with Socket Mode; /healthz on %s:%s", settings.host, settings.port
    )
    await socket.connect_async()  # type: ignore[no-untyped-call]
    try:
        await server.serve()
    finally:
        await socket.close_async()  # type: ignore[no-untyped-call]
        await _finish_follow_ups(deps)
        await asyncio.sleep(0)


async def _finish_follow_ups(deps: Deps, within: float = 10.0) -> None:
    """Let channel posts for already-acknowledged commands go out before the process ends."""
    try:
        await asyncio.wait_for(deps.follow_ups.drain(), within)
    except TimeoutError:
        log.warning("stopped with card posts still queued; the worker will post them")
