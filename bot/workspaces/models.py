"""Workspaces known to this deployment, their cadence overrides and the audit of changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class Workspace(WorkspaceScoped, Base):
    __tablename__ = "workspaces"

    enterprise_id: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Partial cadence config (same shape as the TOML file) layered over the file's defaults.
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SettingsChange(WorkspaceScoped, Base):
    """Who changed which cadence key, from what to what, when."""

    __tablename__ = "settings_changes"
    __table_args__ = (Index("ix_settings_changes_ws_at", "enterprise_id", "team_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
