"""indexes for reading decisions within what a reader may see

``/decision list`` counts and pages open decisions filtered by the privacy rule (readable
conversations, or the reader as owner or creator). With every column the filter and the
ordering use in one index, both are answered from the index alone. App Home's "waiting on
others" (what the reader recorded) gets an index on the creator.

Revision ID: b7d3e91a4c60
Revises: 5e1f0a7c2b94
Create Date: 2026-12-02 15:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7d3e91a4c60"
down_revision: str | None = "5e1f0a7c2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "enterprise_id",
    "team_id",
    "status",
    "channel_id",
    "owner_id",
    "creator_id",
    "due_date",
    "number",
]


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_ws_status_reads", COLUMNS, unique=False)
        batch_op.create_index(
            "ix_decisions_ws_status_creator",
            ["enterprise_id", "team_id", "status", "creator_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_ws_status_creator")
        batch_op.drop_index("ix_decisions_ws_status_reads")
