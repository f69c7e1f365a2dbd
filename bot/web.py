"""The HTTP face of the app: Slack's requests, the OAuth install pages and a health check."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.db import Database
from bot.slack.follow_ups import FollowUps


def create_web_app(
    bolt: AsyncApp,
    db: Database,
    *,
    oauth: bool,
    dispose_db: bool = True,
    follow_ups: FollowUps | None = None,
) -> Starlette:
    """``follow_ups``: the queue whose work waits while Slack requests await their ack."""
    handler = AsyncSlackRequestHandler(bolt)

    async def slack(request: Request) -> Response:
        if follow_ups is None:
            return await handler.handle(request)
        with follow_ups.acknowledging():
            return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    routes = [
        Route("/slack/events", slack, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if oauth:
        routes += [
            Route("/slack/install", slack, methods=["GET"]),
            Route("/slack/oauth_redirect", slack, methods=["GET"]),
        ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if bolt.client.session is not None:
            await bolt.client.session.close()
        if dispose_db:
            await db.dispose()

    return Starlette(routes=routes, lifespan=lifespan)


def settle_heap() -> None:
    """Call once the app is built, before serving: start-up objects (modules, the app, its
    listeners, models) live as long as the process, so move them out of the cyclic garbage
    collector's way (``gc.freeze``) and let it run less often. Without this, a full collection
    in the middle of a burst of commands held every acknowledgement back by 100 ms or more."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, 10_000), middle, old)
