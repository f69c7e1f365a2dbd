"""Builds the Bolt AsyncApp: authorization (one token or OAuth), middleware, listeners, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack.deps import Deps, workspace_of
from bot.slack.errors import handle_error
from bot.slack.listeners import register_all
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "im:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "files:write",
    "team:read",
)
OAUTH_STATE_SECONDS = 600


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    """A Web API client for ``SLACK_API_URL`` that retries what is safe to retry."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(settings: Settings, deps: Deps) -> AsyncApp:
    settings.require_slack()
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    bot_token = (
        None
        if settings.oauth_mode or settings.slack_bot_token is None
        else settings.slack_bot_token.get_secret_value()
    )
    # Bolt takes the single-workspace token from the client it is given.
    client = web_client(settings, token=bot_token)
    options: dict[str, Any] = {
        "signing_secret": signing_secret,
        "client": client,
        "raise_error_for_unhandled_request": False,
        "ignoring_self_events_enabled": True,
    }
    if settings.oauth_mode:
        assert settings.slack_client_id and settings.slack_client_secret
        options["oauth_settings"] = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=list(BOT_SCOPES),
            installation_store=AsyncSQLAlchemyInstallationStore(
                client_id=settings.slack_client_id, engine=deps.db.engine
            ),
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=OAUTH_STATE_SECONDS, engine=deps.db.engine
            ),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
    app = AsyncApp(**options)
    app.use(_context_middleware(deps))
    app.error(handle_error)
    register_all(app)
    return app


def _context_middleware(
    deps: Deps,
) -> Callable[[AsyncBoltContext, Callable[[], Awaitable[None]]], Awaitable[None]]:
    async def put_deps_in_context(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        ws = workspace_of(context)
        context["deps"] = deps
        context["ws"] = ws
        if (ws.team_id or ws.enterprise_id) and ws not in deps.known_workspaces:
            async with deps.db.transaction() as session:
                await workspaces.ensure_workspace(session, ws=ws, now=deps.now())
            deps.known_workspaces.add(ws)
        await next()

    return put_deps_in_context
