"""person prefs and their audit

Each person's own reminder preferences per workspace (issue 15 point 7): the hour of their
daily DM, whether owner notices come at once, and a pause; and every change to them, with who
made it, when, and the values before and after.

Revision ID: 888dc8226390
Revises: e5b1c9d2f7a4
Create Date: 2026-12-03 06:36:49.586284+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "888dc8226390"
down_revision: str | None = "e5b1c9d2f7a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_prefs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("reminder_hour", sa.Integer(), nullable=True),
        sa.Column("owner_notices", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_prefs")),
        sa.UniqueConstraint(
            "enterprise_id",
            "team_id",
            "user_id",
            name=op.f("uq_person_prefs_enterprise_id_team_id_user_id"),
        ),
    )
    op.create_index(
        "ix_person_prefs_ws_paused", "person_prefs", ["enterprise_id", "team_id", "paused_until"]
    )
    op.create_table(
        "person_prefs_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=False),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_prefs_changes")),
    )
    op.create_index(
        "ix_person_prefs_changes_ws_user_at",
        "person_prefs_changes",
        ["enterprise_id", "team_id", "user_id", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_person_prefs_changes_ws_user_at", table_name="person_prefs_changes")
    op.drop_table("person_prefs_changes")
    op.drop_index("ix_person_prefs_ws_paused", table_name="person_prefs")
    op.drop_table("person_prefs")
