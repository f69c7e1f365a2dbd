"""decisions: no action needed

A decided decision whose owner said no follow-through action is needed keeps the one-line
reason, who said it and when. Its actions are ordinary action items (``outcomes``, kind
``action``) whose ``decision_id`` names it.

Revision ID: b48e2f1c7d60
Revises: a17c0d5e9b21
Create Date: 2026-12-02 15:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b48e2f1c7d60"
down_revision: str | None = "a17c0d5e9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_action_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("no_action_by", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("no_action_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("no_action_at")
        batch_op.drop_column("no_action_by")
        batch_op.drop_column("no_action_reason")
