"""The HTTP face of the app: Slack's requests, the OAuth install pages and a health check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.db import Database


def create_web_app(
    bolt: AsyncApp, db: Database, *, oauth: bool, dispose_db: bool = True
) -> Starlette:
    handler = AsyncSlackRequestHandler(bolt)

    async def slack(request: Request) -> Response:
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
