"""reported figures of sent digests

When a digest is sent, the figures it showed for the reported week are kept per workspace and
recipient, so the next digest can show them again and say where a figure was revised since.
``channels`` lists the channels the figures covered, for the privacy check on reading back.

Revision ID: f7c5af17fe71
Revises: 773725e485ef
Create Date: 2026-12-01 22:59:36.078570+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7c5af17fe71"
down_revision: str | None = "773725e485ef"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("meetings_held", sa.Integer(), nullable=False),
        sa.Column("meetings_with_outcome", sa.Integer(), nullable=False),
        sa.Column("meetings_no_outcome_needed", sa.Integer(), nullable=False),
        sa.Column("meetings_awaiting_outcome", sa.Integer(), nullable=False),
        sa.Column("decisions_opened", sa.Integer(), nullable=False),
        sa.Column("decisions_decided", sa.Integer(), nullable=False),
        sa.Column("decisions_dropped", sa.Integer(), nullable=False),
        sa.Column("median_seconds", sa.Float(), nullable=True),
        sa.Column("stalled", sa.Integer(), nullable=True),
        sa.Column("overdue_actions", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_reports")),
        sa.UniqueConstraint(
            "enterprise_id",
            "team_id",
            "recipient",
            "period_start",
            "period_end",
            name="uq_digest_reports_recipient_period",
        ),
    )


def downgrade() -> None:
    op.drop_table("digest_reports")
