"""follow-through actions without a meeting

A decision's follow-through action (issue 17) no longer needs a meeting: ``outcomes.meeting_id``
may be NULL, and such an action lives in its decision's conversation. A check keeps every
outcome somewhere: a meeting, or a decision. Batch mode rebuilds ``outcomes`` on SQLite (it has
no triggers; ``decisions``, which has, is untouched).

Downgrading deletes the actions that have no meeting: the older schema cannot hold them.

Revision ID: f1a7c3e9d205
Revises: b7d41e9a2c65
Create Date: 2026-12-03 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a7c3e9d205"
down_revision: str | None = "b7d41e9a2c65"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.alter_column("meeting_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            "has_place", "meeting_id IS NOT NULL OR decision_id IS NOT NULL"
        )


def downgrade() -> None:
    op.execute("DELETE FROM outcomes WHERE meeting_id IS NULL")
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_constraint("has_place", type_="check")
        batch_op.alter_column("meeting_id", existing_type=sa.Integer(), nullable=False)
