"""Decisions and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class DecisionStatus(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    DROPPED = "dropped"
    # Replaced by a later decision (``superseded_by``): out of the open and stalled counts.
    SUPERSEDED = "superseded"


class Decision(WorkspaceScoped, Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "number"),
        Index("ix_decisions_ws_status_owner", "enterprise_id", "team_id", "status", "owner_id"),
        Index("ix_decisions_ws_channel_status", "enterprise_id", "team_id", "channel_id", "status"),
        Index("ix_decisions_ws_created", "enterprise_id", "team_id", "created_at"),
        Index("ix_decisions_ws_decided", "enterprise_id", "team_id", "decided_at"),
        # The stall rule's two halves (idle since a cutoff, past a due date) each use one.
        Index(
            "ix_decisions_ws_status_activity",
            "enterprise_id",
            "team_id",
            "status",
            "last_activity_at",
        ),
        Index("ix_decisions_ws_status_due", "enterprise_id", "team_id", "status", "due_date"),
        Index("ix_decisions_card_due", "card_due_at"),
        # "Waiting on others" on App Home: what the reader recorded.
        Index("ix_decisions_ws_status_creator", "enterprise_id", "team_id", "status", "creator_id"),
        # Lists within the privacy rule, counted and paged from the index alone.
        Index(
            "ix_decisions_ws_status_reads",
            "enterprise_id",
            "team_id",
            "status",
            "channel_id",
            "owner_id",
            "creator_id",
            "due_date",
            "number",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    creator_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=DecisionStatus.OPEN)
    resolution: Mapped[str | None] = mapped_column(Text)
    drop_reason: Mapped[str | None] = mapped_column(Text)
    # The notes of its history, one a line, so search finds them (kept by ``service.note``).
    notes: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_permalink: Mapped[str | None] = mapped_column(Text)
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # While the channel card is still to be posted: from when the worker may post it, should
    # the web process not get to it (a crash between commit and post). NULL once posted, being
    # posted, or given up.
    card_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Supersede (issue 17): the number of the decision that replaced this one, and when; on the
    # replacing decision, the numbers it replaced (so both cards link without another query).
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supersedes: Mapped[list[int] | None] = mapped_column(JSON)
    # Follow-through (issue 17): its owner said no action is needed, why, and when.
    no_action_reason: Mapped[str | None] = mapped_column(Text)
    no_action_by: Mapped[str | None] = mapped_column(String(32))
    no_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[DecisionEvent]] = relationship(
        back_populates="decision", order_by="DecisionEvent.id", cascade="all, delete-orphan"
    )

    @property
    def ref(self) -> str:
        return f"D-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == DecisionStatus.OPEN


class DecisionEvent(WorkspaceScoped, Base):
    """One entry of a decision's history: who did what, when, with the values before and after."""

    __tablename__ = "decision_events"
    __table_args__ = (Index("ix_decision_events_decision", "decision_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    decision: Mapped[Decision] = relationship(back_populates="events")
