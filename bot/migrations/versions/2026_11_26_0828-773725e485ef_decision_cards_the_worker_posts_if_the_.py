"""decision cards the worker posts if the web process could not

A new decision's channel card is posted after the acknowledgement. ``card_due_at`` keeps the
card's place until it is posted, so a web process that stops in between loses nothing: the
worker posts what is still due. The index serves the worker's "what is due" scan.

Revision ID: 773725e485ef
Revises: 1c63bc12bed1
Create Date: 2026-11-26 08:28:03.301437+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "773725e485ef"
down_revision: str | None = "1c63bc12bed1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_decisions_card_due", ["card_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_card_due")
        batch_op.drop_column("card_due_at")
