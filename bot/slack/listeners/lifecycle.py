"""app_uninstalled and tokens_revoked: a workspace that lets us go is left alone at once.

Scheduling stops for it immediately (what was queued is cancelled), its installation is
deleted in OAuth mode, and its data is deleted when the cadence file's retention period has
passed — straight away when that period is 0 days.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.slack.deps import Deps, deps_of, workspace_of
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

APP_UNINSTALLED = "app_uninstalled"
TOKENS_REVOKED = "tokens_revoked"
LIFECYCLE_EVENTS = frozenset({APP_UNINSTALLED, TOKENS_REVOKED})

# The context key under which the app middleware puts the OAuth installation store.
INSTALLATION_STORE = "installation_store"


def register(app: AsyncApp) -> None:
    app.event(APP_UNINSTALLED)(app_uninstalled)
    app.event(TOKENS_REVOKED)(tokens_revoked)


async def app_uninstalled(context: AsyncBoltContext) -> None:
    await _let_go(context)


async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
    tokens = event.get("tokens") or {}
    if tokens.get("bot"):
        # Without its bot token the app can do nothing there: the same as an uninstall.
        await _let_go(context)
        return
    store = _store(context)
    if store is None:
        return
    enterprise_id, team_id = _installation_key(context)
    for user_id in tokens.get("oauth") or []:
        await store.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )


async def _let_go(context: AsyncBoltContext) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    whole_enterprise = bool(context.is_enterprise_install) and bool(ws.enterprise_id)
    if not ws.team_id and not whole_enterprise:
        log.warning("uninstall notice without a workspace; nothing to do")
        return
    days = deps.cadence.retention.days_after_uninstall
    async with deps.db.transaction() as session:
        gone = await workspaces.mark_uninstalled(
            session, ws=ws, now=deps.now(), retention_days=days, whole_enterprise=whole_enterprise
        )
        if days == 0:
            for key in gone:
                await workspaces.purge_workspace(session, ws=key)
    _forget(deps, gone)
    log.info(
        "uninstalled from %s; its data is kept for %d day(s)",
        ", ".join(map(str, gone)) or f"enterprise {ws.enterprise_id}",
        days,
    )
    store = _store(context)
    if store is not None:
        enterprise_id, team_id = _installation_key(context)
        await store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)


def _forget(deps: Deps, gone: list[WorkspaceKey]) -> None:
    """Let the middleware see these workspaces afresh, so a reinstall brings them back, and
    make the web process's outbox read a reinstall's new token instead of the cached one."""
    for key in gone:
        deps.known_workspaces.discard(key)
        if deps.outbox is not None:
            deps.outbox.clients.forget(key)


def _store(context: AsyncBoltContext) -> AsyncInstallationStore | None:
    store = context.get(INSTALLATION_STORE)
    return store if isinstance(store, AsyncInstallationStore) else None


def _installation_key(context: AsyncBoltContext) -> tuple[str | None, str | None]:
    """The (enterprise_id, team_id) slack_sdk's store files this installation under.

    An org-wide install is filed under its enterprise alone.
    """
    enterprise_id = context.enterprise_id or None
    team_id = None if context.is_enterprise_install else (context.team_id or None)
    return enterprise_id, team_id
