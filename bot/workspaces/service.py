"""Workspaces as this deployment knows them: contact, cadence overrides, uninstall and purge.

A workspace's lifecycle is: recorded on first contact (or install), live while installed,
uninstalled when Slack says so (nothing more is scheduled for it), and purged — every row of
it, in every table — once the retention period in the cadence file has run out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    column,
    delete,
    exists,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import (
    WORKSPACE_KEYS,
    CadenceConfig,
    InvalidSettings,
    apply_overrides,
    canonical_setting,
    setting_value,
    with_setting,
    without_setting,
)
from bot.db import Base, insert_if_absent
from bot.decisions.models import Decision, DecisionEvent, DecisionTerm
from bot.delivery.models import Delivery, DeliveryStatus
from bot.errors import Forbidden, InvalidInput
from bot.meetings.models import Meeting, Outcome
from bot.numbering import Counter
from bot.timeoff.models import TimeOff
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces.models import SettingsChange, Workspace

log = logging.getLogger(__name__)

# A purge walks every workspace-scoped table in the metadata; naming these models here makes sure
# their tables are in it even in a process that never imported them otherwise.
SCOPED_MODELS = (
    Decision,
    DecisionEvent,
    DecisionTerm,
    Meeting,
    Outcome,
    Delivery,
    Counter,
    SettingsChange,
    TimeOff,
)

# slack_sdk's installation tables (bot/slack/install_tables.py). They are named, not imported,
# so this domain module stays free of Slack code; an installation's enterprise_id is NULL, not
# "", outside Enterprise Grid.
INSTALLATION_TABLES = tuple(
    table(name, column("enterprise_id"), column("team_id"))
    for name in ("slack_installations", "slack_bots")
)

# --- contact and install ----------------------------------------------------------------------


async def ensure_workspace(session: AsyncSession, *, ws: WorkspaceKey, now: datetime) -> None:
    """Record the workspace on first contact; a no-op when it is already known."""
    await insert_if_absent(
        session,
        Workspace,
        {**Workspace.key_values(ws), "overrides": {}, "installed_at": now, "updated_at": now},
    )


async def get_workspace(session: AsyncSession, *, ws: WorkspaceKey) -> Workspace | None:
    return await session.scalar(select(Workspace).where(Workspace.in_workspace(ws)))


def _scope(ws: WorkspaceKey, *, whole_enterprise: bool) -> ColumnElement[bool]:
    """This workspace, or with an org-wide install every workspace of its Enterprise Grid org."""
    if whole_enterprise:
        return Workspace.enterprise_id == ws.enterprise_id
    return Workspace.in_workspace(ws)


async def mark_installed(
    session: AsyncSession, *, ws: WorkspaceKey, now: datetime, whole_enterprise: bool = False
) -> bool:
    """Record the workspace as installed, bringing it back if it was uninstalled.

    True when an uninstalled workspace came back: its pending purge is called off and its
    settings are kept, as if it had never left.
    """
    if not whole_enterprise:
        await ensure_workspace(session, ws=ws, now=now)
    revived = await session.execute(
        update(Workspace)
        .where(_scope(ws, whole_enterprise=whole_enterprise), Workspace.uninstalled_at.is_not(None))
        .values(uninstalled_at=None, purge_after=None, installed_at=now, updated_at=now)
    )
    return bool(getattr(revived, "rowcount", 0))


async def mark_uninstalled(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    now: datetime,
    retention_days: int,
    whole_enterprise: bool = False,
) -> list[WorkspaceKey]:
    """Stop everything for the workspace (or the whole org) and set the date its data goes.

    Nothing is planned for it from now on (see ``in_active_workspace``) and what was already
    planned is cancelled. A second notice (Slack sends ``tokens_revoked`` and then
    ``app_uninstalled``) keeps the first uninstall time. Returns the workspaces affected.
    """
    if not whole_enterprise:
        await ensure_workspace(session, ws=ws, now=now)
    scope = _scope(ws, whole_enterprise=whole_enterprise)
    await session.execute(
        update(Workspace)
        .where(scope, Workspace.uninstalled_at.is_(None))
        .values(
            uninstalled_at=now,
            purge_after=now + timedelta(days=retention_days),
            updated_at=now,
        )
    )
    rows = await session.execute(select(Workspace.enterprise_id, Workspace.team_id).where(scope))
    keys = [WorkspaceKey(team_id=team, enterprise_id=enterprise) for enterprise, team in rows]
    for key in keys:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.in_workspace(key),
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.BUNDLED]),
            )
            .values(status=DeliveryStatus.CANCELLED, updated_at=now, last_error="uninstalled")
        )
    return keys


# --- what the scheduler may touch -------------------------------------------------------------


def in_active_workspace(model: Any) -> ColumnElement[bool]:
    """SQL condition: the row of ``model`` (any WorkspaceScoped model) belongs to a live workspace.

    Written as "not in an uninstalled workspace" so rows of a workspace that was never recorded
    (there is always a row once Slack has talked to us) still count as live.
    """
    return ~exists().where(
        Workspace.enterprise_id == model.enterprise_id,
        Workspace.team_id == model.team_id,
        Workspace.uninstalled_at.is_not(None),
    )


async def active_workspaces(session: AsyncSession) -> list[WorkspaceKey]:
    """Every installed workspace, for a scheduler that walks workspaces one by one."""
    rows = await session.execute(
        select(Workspace.enterprise_id, Workspace.team_id)
        .where(Workspace.uninstalled_at.is_(None))
        .order_by(Workspace.enterprise_id, Workspace.team_id)
    )
    return [WorkspaceKey(team_id=team, enterprise_id=enterprise) for enterprise, team in rows]


# --- purge ------------------------------------------------------------------------------------


def _scoped_tables() -> list[Table]:
    """Every table whose rows carry a workspace key, children before the rows they point at."""
    names = {t.name for t in INSTALLATION_TABLES}
    return [
        t
        for t in reversed(Base.metadata.sorted_tables)
        if t.name not in names and {"enterprise_id", "team_id"} <= set(t.c.keys())
    ]


async def purge_workspace(session: AsyncSession, *, ws: WorkspaceKey) -> None:
    """Delete every row of the workspace from every table, its installation included."""
    for scoped in _scoped_tables():
        await session.execute(
            delete(scoped).where(
                scoped.c.enterprise_id == ws.enterprise_id, scoped.c.team_id == ws.team_id
            )
        )
    for installed in INSTALLATION_TABLES:
        enterprise = installed.c.enterprise_id
        await session.execute(
            delete(installed).where(
                installed.c.team_id == ws.team_id,
                enterprise == ws.enterprise_id
                if ws.enterprise_id
                else or_(enterprise.is_(None), enterprise == ""),
            )
        )


async def purge_due_workspaces(
    session: AsyncSession, *, now: datetime, limit: int = 20
) -> list[WorkspaceKey]:
    """Purge the uninstalled workspaces whose retention ran out by ``now``; returns them.

    The worker calls this each tick. On PostgreSQL a second worker skips the rows the first has
    locked instead of purging them twice; ``limit`` keeps one tick's transaction short.
    """
    due = await session.execute(
        select(Workspace.enterprise_id, Workspace.team_id)
        .where(Workspace.uninstalled_at.is_not(None), Workspace.purge_after <= now)
        .order_by(Workspace.purge_after)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    keys = [WorkspaceKey(team_id=team, enterprise_id=enterprise) for enterprise, team in due]
    for key in keys:
        await purge_workspace(session, ws=key)
        log.info("purged workspace %s after its retention period", key)
    return keys


# --- cadence overrides ------------------------------------------------------------------------


async def cadence_for(
    session: AsyncSession, *, ws: WorkspaceKey, base: CadenceConfig
) -> CadenceConfig:
    """The file's defaults with this workspace's overrides laid over them."""
    workspace = await get_workspace(session, ws=ws)
    if workspace is None or not workspace.overrides:
        return base
    return _effective(base, workspace.overrides, ws=ws)


def _effective(
    base: CadenceConfig, overrides: Mapping[str, Any], *, ws: WorkspaceKey
) -> CadenceConfig:
    """Overrides over ``base``, dropping any that an edited cadence file has made invalid.

    Saved overrides were valid against the file of their day; when the operator later changes
    the file (say, an earlier end of day), the workspace keeps working on what still fits
    instead of failing every command.
    """
    try:
        return apply_overrides(base, overrides)
    except InvalidSettings as exc:
        problems = exc.problems
    log.warning("workspace %s: ignoring overrides that no longer fit: %s", ws, sorted(problems))
    trimmed: Mapping[str, Any] = overrides
    for key in problems:
        trimmed = without_setting(trimmed, key)
    try:
        return apply_overrides(base, trimmed)
    except InvalidSettings:
        return base


async def save_settings(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    actor: Actor,
    base: CadenceConfig,
    values: Mapping[str, Any],
    now: datetime,
) -> list[SettingsChange]:
    """Store the values that differ from the workspace's current ones, each change audited.

    ``values`` maps keys of ``WORKSPACE_KEYS`` to values in the file's shape. A value equal to
    the file's own is stored as "no override", so later edits of the file reach the workspace.
    Raises ``InvalidSettings`` (nothing stored) when the result would not be a valid cadence.
    """
    if not actor.is_admin:
        raise Forbidden(code="settings.not_admin")
    unknown = sorted(set(values) - set(WORKSPACE_KEYS))
    if unknown:
        raise InvalidInput(code="settings.not_here", keys=unknown)
    await ensure_workspace(session, ws=ws, now=now)
    workspace = await session.scalar(
        select(Workspace).where(Workspace.in_workspace(ws)).with_for_update()
    )
    assert workspace is not None
    current = _effective(base, workspace.overrides, ws=ws)
    changed = [
        key
        for key in WORKSPACE_KEYS
        if key in values and canonical_setting(key, values[key]) != setting_value(current, key)
    ]
    if not changed:
        return []
    overrides = dict(workspace.overrides)
    for key in changed:
        overrides = with_setting(overrides, key, values[key])
    candidate = apply_overrides(base, overrides)
    for key in changed:
        stored = setting_value(candidate, key)
        if stored == setting_value(base, key):
            overrides = without_setting(overrides, key)
        else:
            overrides = with_setting(overrides, key, stored)
    workspace.overrides = overrides
    workspace.updated_at = now
    audit = [
        SettingsChange(
            **SettingsChange.key_values(ws),
            actor_id=actor.user_id,
            key=key,
            old_value=setting_value(current, key),
            new_value=setting_value(candidate, key),
            at=now,
        )
        for key in changed
    ]
    session.add_all(audit)
    await session.flush()
    return audit


async def recent_changes(
    session: AsyncSession, *, ws: WorkspaceKey, limit: int = 5
) -> Sequence[SettingsChange]:
    """The latest settings changes of the workspace, newest first."""
    rows = await session.scalars(
        select(SettingsChange)
        .where(SettingsChange.in_workspace(ws))
        .order_by(SettingsChange.at.desc(), SettingsChange.id.desc())
        .limit(limit)
    )
    return rows.all()
