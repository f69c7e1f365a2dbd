"""nudge planner and ledger claim indexes

The planner asks every minute for each workspace's open decisions that are past due or idle
since a cutoff; these two indexes answer that with range scans however many decisions there
are. The deliveries index serves the claim's "one row per conversation in flight" lookups.

Revision ID: 1c63bc12bed1
Revises: 9c8ac607f328
Create Date: 2026-11-26 05:34:55.503793+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1c63bc12bed1"
down_revision: str | None = "9c8ac607f328"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_decisions_ws_status_activity",
            ["enterprise_id", "team_id", "status", "last_activity_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_decisions_ws_status_due",
            ["enterprise_id", "team_id", "status", "due_date"],
            unique=False,
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_ws_recipient_status_due",
            ["enterprise_id", "team_id", "recipient", "status", "due_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_ws_recipient_status_due")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_ws_status_due")
        batch_op.drop_index("ix_decisions_ws_status_activity")
