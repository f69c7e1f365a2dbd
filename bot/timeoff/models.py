"""Periods of time off: a person is away from ``first_day`` through ``last_day``, local dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class TimeOff(WorkspaceScoped, Base):
    """One period away. Past periods stay: their days still do not count towards stalling.

    The days are local dates in ``zone``, the person's Slack time zone when they said it: away
    from 00:00 of ``first_day`` to 00:00 after ``last_day`` on that clock.
    """

    __tablename__ = "time_off"
    __table_args__ = (
        Index("ix_time_off_ws_user_last", "enterprise_id", "team_id", "user_id", "last_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
