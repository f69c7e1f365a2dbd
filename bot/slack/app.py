"""Builds the Bolt AsyncApp: authorization (one token or OAuth), middleware, listeners, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InvalidInput
from bot.once import OnceLedger
from bot.settings import Settings
from bot.slack.ack_budget import keep_acks_timely
from bot.slack.client import SLACK_PAUSES, RetryPauses, request_client
from bot.slack.deps import Deps, workspace_of
from bot.slack.errors import FormError, handle_error
from bot.slack.listeners import register_all
from bot.slack.listeners.lifecycle import INSTALLATION_STORE, LIFECYCLE_EVENTS
from bot.slack.oauth_state import OneTimeOAuthState
from bot.slack.parsing.unstorable import UNSTORABLE_TEXT, find_unstorable
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "users:read.email",
    "im:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "files:write",
    "team:read",
    "dnd:read",
)
OAUTH_STATE_SECONDS = 600
# Said to someone whose workspace has no (or no longer a) working installation.
NOT_INSTALLED = (
    "Followthrough is not installed in this workspace (or was removed from it). "
    "Ask a workspace admin to install it again."
)
# Bolt refreshes a rotating token when it expires within this many minutes (its default).
TOKEN_REFRESH_MINUTES = 120


def build_app(settings: Settings, deps: Deps, *, pauses: RetryPauses = SLACK_PAUSES) -> AsyncApp:
    """The app; ``pauses`` are its Slack clients' pauses between retries (tests: none)."""
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
    # Bolt copies this client (and its connection pool) for every request it handles.
    client = request_client(settings, bot_token, session=aiohttp.ClientSession(), pauses=pauses)
    options: dict[str, Any] = {
        "signing_secret": signing_secret,
        "client": client,
        "raise_error_for_unhandled_request": False,
        "ignoring_self_events_enabled": True,
        "user_facing_authorize_error_message": NOT_INSTALLED,
    }
    if settings.oauth_mode:
        options.update(_oauth_options(settings, deps, client))
    app = AsyncApp(**options)
    keep_acks_timely(app, deps.in_flight)
    app.use(_refuse_unstorable_text)
    app.use(_context_middleware(deps, app.installation_store))
    app.error(handle_error)
    register_all(app)
    return app


def _oauth_options(settings: Settings, deps: Deps, client: AsyncWebClient) -> dict[str, Any]:
    """Installs, state checks and per-workspace tokens, all stored in our own database.

    Bolt's default authorizer refreshes rotating tokens with a client of its own aimed at
    slack.com; ours is built on ``client`` so refreshes go to ``SLACK_API_URL`` like every call.
    """
    assert settings.slack_client_id and settings.slack_client_secret
    client_id = settings.slack_client_id
    client_secret = settings.slack_client_secret.get_secret_value()
    store = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=deps.db.engine)
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=store,
        state_store=OneTimeOAuthState(
            secret=client_secret, expiration_seconds=OAUTH_STATE_SECONDS, once=OnceLedger(deps.db)
        ),
        state_expiration_seconds=OAUTH_STATE_SECONDS,
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        token_rotation_expiration_minutes=TOKEN_REFRESH_MINUTES,
        callback_options=AsyncCallbackOptions(success=_installed(deps), failure=_install_failed),
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=log,
        installation_store=store,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=TOKEN_REFRESH_MINUTES,
        client=client,
    )
    return {"oauth_settings": oauth_settings, "authorize": authorize}


def _installed(deps: Deps) -> Callable[[AsyncSuccessArgs], Awaitable[BoltResponse]]:
    async def on_success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        ws = WorkspaceKey(
            team_id=installation.team_id or "", enterprise_id=installation.enterprise_id or ""
        )
        org_wide = bool(installation.is_enterprise_install) and not installation.team_id
        async with deps.db.transaction() as session:
            revived = await workspaces.mark_installed(
                session, ws=ws, now=deps.now(), whole_enterprise=org_wide
            )
        log.info("installed in %s%s", ws, " (reinstalled; purge called off)" if revived else "")
        return await args.default.success(args)

    return on_success


async def _install_failed(args: AsyncFailureArgs) -> BoltResponse:
    log.info("an install did not complete: %s", args.reason)
    return await args.default.failure(args)


async def _refuse_unstorable_text(
    body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> None:
    """What people send (commands, buttons, shortcuts, modals) holds nothing we cannot store.

    Events are Slack's own news (an uninstall, a changed profile) and are not refused.
    """
    if body.get("type") != "event_callback":
        found = find_unstorable(body)
        if found is not None:
            block = found.view_block if body.get("type") == "view_submission" else None
            if block is not None:
                raise FormError({block: UNSTORABLE_TEXT})
            raise InvalidInput(UNSTORABLE_TEXT)
    await next()


def _is_lifecycle_event(body: dict[str, Any]) -> bool:
    event = body.get("event")
    return isinstance(event, dict) and event.get("type") in LIFECYCLE_EVENTS


def _context_middleware(
    deps: Deps, store: AsyncInstallationStore | None
) -> Callable[[AsyncBoltContext, dict[str, Any], Callable[[], Awaitable[None]]], Awaitable[None]]:
    async def put_deps_in_context(
        context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> None:
        ws = workspace_of(context)
        context["deps"] = deps
        context["ws"] = ws
        context[INSTALLATION_STORE] = store
        # Any other request from a workspace means the app is installed there: record it, and
        # bring it back if it had been uninstalled. An uninstall notice must not do that.
        if ws.team_id and ws not in deps.known_workspaces and not _is_lifecycle_event(body):
            async with deps.db.transaction() as session:
                await workspaces.mark_installed(session, ws=ws, now=deps.now())
            deps.known_workspaces.add(ws)
        await next()

    return put_deps_in_context
