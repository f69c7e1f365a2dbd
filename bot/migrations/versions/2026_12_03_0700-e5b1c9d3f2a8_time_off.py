"""time off: a person's own periods away (``/hygiene away``)

Revision ID: e5b1c9d3f2a8
Revises: e5f1a2b3c4d7
Create Date: 2026-12-03 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b1c9d3f2a8"
down_revision: str | None = "e5f1a2b3c4d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_time_off_ws_user_last",
        "time_off",
        ["enterprise_id", "team_id", "user_id", "last_day"],
    )


def downgrade() -> None:
    op.drop_index("ix_time_off_ws_user_last", table_name="time_off")
    op.drop_table("time_off")
