"""What each sent digest said, kept so the next one can quote it and say what changed since."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class DigestReport(WorkspaceScoped, Base):
    """The figures one digest showed one recipient for the week it reported.

    One row per workspace, recipient and reported period: a digest sent again for the same
    week (on demand, or by a retry) replaces the row, so it holds what was shown last.
    ``channels`` are the channels the figures covered (those the recipient could see then),
    so a figure is never shown again to someone who can no longer see all of them.
    """

    __tablename__ = "digest_reports"
    __table_args__ = (
        UniqueConstraint(
            "enterprise_id",
            "team_id",
            "recipient",
            "period_start",
            "period_end",
            name="uq_digest_reports_recipient_period",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A user id (the digest went to their DM) or a channel id (posted there).
    recipient: Mapped[str] = mapped_column(String(32))
    period_key: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channels: Mapped[list[str]] = mapped_column(JSON)

    meetings_held: Mapped[int] = mapped_column(Integer)
    meetings_with_outcome: Mapped[int] = mapped_column(Integer)
    meetings_no_outcome_needed: Mapped[int] = mapped_column(Integer)
    meetings_awaiting_outcome: Mapped[int] = mapped_column(Integer)
    decisions_opened: Mapped[int] = mapped_column(Integer)
    decisions_decided: Mapped[int] = mapped_column(Integer)
    decisions_dropped: Mapped[int] = mapped_column(Integer)
    median_seconds: Mapped[float | None] = mapped_column(Float)
    stalled: Mapped[int | None] = mapped_column(Integer)
    overdue_actions: Mapped[int] = mapped_column(Integer)
    # Reviews (issue 17); NULL in reports sent before they were counted.
    reviews_due: Mapped[int | None] = mapped_column(Integer)
    reviews_kept: Mapped[int | None] = mapped_column(Integer)
    reviews_amended: Mapped[int | None] = mapped_column(Integer)
    reviews_reversed: Mapped[int | None] = mapped_column(Integer)
