"""The deliveries ledger: every nudge, escalation and digest is a row before it is a message.

The unique key (workspace, kind, subject, recipient, period) makes planning idempotent: a
second planner, a retry or an overlapping deploy inserts nothing new. Senders claim rows with a
lease so a killed sender's work is picked up again when the lease runs out.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, str_enum
from bot.workspace import WorkspaceScoped


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    #: A per-item reminder waiting for its recipient's daily DM (bot/nudges/daily.py); never
    #: claimed on its own, settled (sent or cancelled) with that DM.
    BUNDLED = "bundled"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Delivery(WorkspaceScoped, Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "kind", "subject", "recipient", "period"),
        Index("ix_deliveries_status_due", "status", "due_at"),
        # Claims look up a recipient's other pending rows (one in flight per conversation).
        Index(
            "ix_deliveries_ws_recipient_status_due",
            "enterprise_id",
            "team_id",
            "recipient",
            "status",
            "due_at",
        ),
        # Pacing across senders (`bot.delivery.ledger.claim`): what went out lately, and what is
        # in flight, per workspace and conversation.
        Index("ix_deliveries_sent_at", "sent_at"),
        Index("ix_deliveries_lease_expires", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, 16), default=DeliveryStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryHold(WorkspaceScoped, Base):
    """Slack said 429: nothing more to a conversation (``channel``), or to the whole workspace
    (``channel`` is ""), before ``until``. Shared by every sender; see `bot.delivery.ledger`."""

    __tablename__ = "delivery_holds"

    enterprise_id: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    until: Mapped[datetime] = mapped_column(UTCDateTime)
