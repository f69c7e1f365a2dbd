"""Meetings and what they produced: notes, action items and decisions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime, str_enum
from bot.workspace import WorkspaceScoped

if TYPE_CHECKING:
    from bot.decisions.models import Decision


class OutcomeKind(enum.StrEnum):
    NOTE = "note"
    ACTION = "action"
    DECISION = "decision"


class Meeting(WorkspaceScoped, Base):
    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "number"),
        # One open meeting per channel, enforced by the database so racing starts cannot both win.
        Index(
            "uq_meetings_open_per_channel",
            "enterprise_id",
            "team_id",
            "channel_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_meetings_ws_ended", "enterprise_id", "team_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    organizer_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    # Held in a DM or group DM; its action items and outcomes are too (see Decision.direct).
    direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_outcome_reason: Mapped[str | None] = mapped_column(Text)
    no_outcome_by: Mapped[str | None] = mapped_column(String(32))
    no_outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    outcomes: Mapped[list[Outcome]] = relationship(
        back_populates="meeting", order_by="Outcome.id", cascade="all, delete-orphan"
    )

    @property
    def ref(self) -> str:
        return f"M-{self.number}"


class Outcome(WorkspaceScoped, Base):
    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "number"),
        Index("ix_outcomes_meeting", "meeting_id"),
        # A decision's follow-through actions (issue 17).
        Index("ix_outcomes_decision", "decision_id"),
        Index("ix_outcomes_ws_kind_owner", "enterprise_id", "team_id", "kind", "owner_id"),
        # Every outcome belongs somewhere: a meeting, or (a follow-through action recorded with
        # no meeting) its decision.
        CheckConstraint("meeting_id IS NOT NULL OR decision_id IS NOT NULL", name="has_place"),
        # The digest's reads of actions, from the index alone: the decisions that have an
        # action and when those were done (orphans, decision to done) ...
        Index(
            "ix_outcomes_ws_kind_decision",
            "enterprise_id",
            "team_id",
            "kind",
            "decision_id",
            "done_at",
        ),
        # ... and the actions not done by a moment (overdue actions, channels in play).
        Index(
            "ix_outcomes_ws_kind_done",
            "enterprise_id",
            "team_id",
            "kind",
            "done_at",
            "due_date",
            "created_at",
            "meeting_id",
            "owner_id",
            "creator_id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL for a follow-through action added to a decision with no meeting (issue 17): it lives
    # in its decision's conversation instead (``channel_id``, ``direct``, bot.meetings.place).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    # Only action items get a number (A-<n>): they are what people mark done or snooze.
    number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, 16))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    creator_id: Mapped[str] = mapped_column(String(32))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(32))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_permalink: Mapped[str | None] = mapped_column(Text)
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    meeting: Mapped[Meeting | None] = relationship(back_populates="outcomes")
    # The decision it follows through on, read only: ``decision_id`` is what code sets.
    decision: Mapped[Decision | None] = relationship(viewonly=True)

    @property
    def ref(self) -> str | None:
        return f"A-{self.number}" if self.number is not None else None

    @property
    def channel_id(self) -> str:
        """The conversation it lives in: its meeting's, else its decision's (load both first:
        ``bot.meetings.place.LOAD``)."""
        if self.meeting is not None:
            return self.meeting.channel_id
        if self.decision is not None:
            return self.decision.channel_id
        raise ValueError(f"outcome {self.id} has neither a meeting nor a decision")

    @property
    def direct(self) -> bool:
        """Its conversation is a DM or group DM (private to it, like ``channel_id``)."""
        if self.meeting is not None:
            return self.meeting.direct
        if self.decision is not None:
            return self.decision.direct
        raise ValueError(f"outcome {self.id} has neither a meeting nor a decision")
