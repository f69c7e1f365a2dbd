"""decisions superseded by later ones

A decision replaced by a later one (``/decision supersede D-old with D-new``) keeps the number
of its successor and when it happened; the successor lists the numbers it replaced.

Revision ID: a17c0d5e9b21
Revises: c4a1e7d9b210
Create Date: 2026-12-02 15:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a17c0d5e9b21"
down_revision: str | None = "c4a1e7d9b210"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("supersedes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("supersedes")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("superseded_by")
