"""calendar feeds and occurrences

A channel follows calendar feeds (the URL encrypted at rest, with its fetch state); each event
occurrence that counts as a meeting is stored, and linked to its meeting once it has ended.

Revision ID: c4a1e7d9b210
Revises: b7d3e91a4c60
Create Date: 2026-12-02 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a1e7d9b210"
down_revision: str | None = "b7d3e91a4c60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("url_secret", sa.Text(), nullable=False),
        sa.Column("url_masked", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_calendar_feeds_ws_channel",
        "calendar_feeds",
        ["enterprise_id", "team_id", "channel_id"],
    )
    op.create_index("ix_calendar_feeds_next_fetch", "calendar_feeds", ["next_fetch_at"])
    op.create_table(
        "calendar_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False),
        sa.Column("recurrence_key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("organizer_email", sa.Text(), nullable=True),
        sa.Column("organizer_id", sa.String(length=32), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("made_meeting", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["feed_id"], ["calendar_feeds.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "uid", "recurrence_key"),
    )
    op.create_index(
        "ix_calendar_occurrences_due",
        "calendar_occurrences",
        ["enterprise_id", "team_id", "meeting_id", "ends_at"],
    )
    op.create_index(
        "ix_calendar_occurrences_channel_start",
        "calendar_occurrences",
        ["enterprise_id", "team_id", "channel_id", "starts_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_occurrences_channel_start", table_name="calendar_occurrences")
    op.drop_index("ix_calendar_occurrences_due", table_name="calendar_occurrences")
    op.drop_table("calendar_occurrences")
    op.drop_index("ix_calendar_feeds_next_fetch", table_name="calendar_feeds")
    op.drop_index("ix_calendar_feeds_ws_channel", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
