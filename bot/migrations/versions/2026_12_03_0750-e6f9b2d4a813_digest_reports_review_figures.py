"""digest reports: review figures

A sent digest keeps the review figures it showed (issue 17): reviews due, and the answers kept,
amended and reversed in its week. NULL in reports sent before these were counted.

Revision ID: e6f9b2d4a813
Revises: 5d8f3b2a9c14
Create Date: 2026-12-03 07:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6f9b2d4a813"
down_revision: str | None = "5d8f3b2a9c14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("reviews_due", "reviews_kept", "reviews_amended", "reviews_reversed")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("digest_reports", sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    for name in reversed(_COLUMNS):
        op.drop_column("digest_reports", name)
