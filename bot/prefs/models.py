"""A person's own reminder preferences in one workspace, and the audit of every change to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class PersonPrefs(WorkspaceScoped, Base):
    """One row per person who changed a preference; everyone else has the defaults."""

    __tablename__ = "person_prefs"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "user_id"),
        # The sender and the planner read who is paused (few people, at any time).
        Index("ix_person_prefs_ws_paused", "enterprise_id", "team_id", "paused_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    # The hour of the daily reminder DM on their own clock; NULL: the start of their working day.
    reminder_hour: Mapped[int | None] = mapped_column(Integer)
    # "Also tell me the moment I'm made owner" (true) or "only my daily DM" (false).
    owner_notices: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # Nothing is sent to them before the start of their working hours on this day.
    paused_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PersonPrefsChange(WorkspaceScoped, Base):
    """Who changed whose preferences, when, from what to what (each a dict of the fields)."""

    __tablename__ = "person_prefs_changes"
    __table_args__ = (
        Index("ix_person_prefs_changes_ws_user_at", "enterprise_id", "team_id", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
