"""A channel's calendar feeds, their fetch state, and the event occurrences read from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime
from bot.workspace import WorkspaceScoped


class CalendarFeed(WorkspaceScoped, Base):
    __tablename__ = "calendar_feeds"
    __table_args__ = (
        Index("ix_calendar_feeds_ws_channel", "enterprise_id", "team_id", "channel_id"),
        Index("ix_calendar_feeds_next_fetch", "next_fetch_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    # The URL is a secret (it grants read access to the calendar): Fernet-encrypted at rest,
    # shown back only as `url_masked`.
    url_secret: Mapped[str] = mapped_column(Text)
    url_masked: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_fetch_at: Mapped[datetime] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(Integer, default=0)


class CalendarOccurrence(WorkspaceScoped, Base):
    """One occurrence of a calendar event that counts as a meeting: an *expected* meeting until
    it ends, then linked to the `Meeting` (M-<n>) that owes its outcomes."""

    __tablename__ = "calendar_occurrences"
    __table_args__ = (
        UniqueConstraint("feed_id", "uid", "recurrence_key"),
        Index("ix_calendar_occurrences_due", "enterprise_id", "team_id", "meeting_id", "ends_at"),
        Index(
            "ix_calendar_occurrences_channel_start",
            "enterprise_id",
            "team_id",
            "channel_id",
            "starts_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("calendar_feeds.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    uid: Mapped[str] = mapped_column(Text)
    # The occurrence's original start (RECURRENCE-ID) in UTC ISO form; "" for a single event.
    recurrence_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attendees: Mapped[int] = mapped_column(Integer)
    organizer_email: Mapped[str | None] = mapped_column(Text)
    organizer_id: Mapped[str | None] = mapped_column(String(32))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    # True when the calendar made the meeting (a moved event then moves it too); False when it
    # was linked to a meeting someone started with `/meeting start`.
    made_meeting: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
