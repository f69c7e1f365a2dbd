"""Workspaces as this deployment knows them: first contact, cadence overrides, uninstalls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig, apply_overrides
from bot.db import insert_if_absent
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace


async def ensure_workspace(session: AsyncSession, *, ws: WorkspaceKey, now: datetime) -> None:
    """Record the workspace on first contact; a no-op when it is already known."""
    await insert_if_absent(
        session,
        Workspace,
        {**Workspace.key_values(ws), "overrides": {}, "installed_at": now, "updated_at": now},
    )


async def get_workspace(session: AsyncSession, *, ws: WorkspaceKey) -> Workspace | None:
    return await session.scalar(select(Workspace).where(Workspace.in_workspace(ws)))


async def cadence_for(
    session: AsyncSession, *, ws: WorkspaceKey, base: CadenceConfig
) -> CadenceConfig:
    """The file's defaults with this workspace's overrides laid over them."""
    workspace = await get_workspace(session, ws=ws)
    if workspace is None or not workspace.overrides:
        return base
    return apply_overrides(base, workspace.overrides)
