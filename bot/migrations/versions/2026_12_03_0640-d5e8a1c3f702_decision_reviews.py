"""decision reviews

A decided decision may have a review day (``review_on``) on which its owner is asked whether it
held; each answer (kept, amended, reversed, too early) is a row of ``decision_reviews``. A
reversed decision keeps when and why. Columns are added with plain ``ALTER TABLE``: a batch
rebuild of ``decisions`` on SQLite would drop its full-text-search triggers.

Revision ID: d5e8a1c3f702
Revises: a3d9e2f41b07
Create Date: 2026-12-03 06:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5e8a1c3f702"
down_revision: str | None = "a3d9e2f41b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("decisions", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column("decisions", sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("decisions", sa.Column("reversal_reason", sa.Text(), nullable=True))
    op.create_index(
        "ix_decisions_ws_status_review",
        "decisions",
        ["enterprise_id", "team_id", "status", "review_on"],
    )
    op.create_table(
        "decision_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("resolution_before", sa.Text(), nullable=True),
        sa.Column("resolution_after", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_decision_reviews_ws_answered",
        "decision_reviews",
        ["enterprise_id", "team_id", "answered_at"],
    )
    op.create_index(
        "ix_decision_reviews_ws_due", "decision_reviews", ["enterprise_id", "team_id", "due_on"]
    )
    op.create_index("ix_decision_reviews_decision", "decision_reviews", ["decision_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_decision_reviews_decision", table_name="decision_reviews")
    op.drop_index("ix_decision_reviews_ws_due", table_name="decision_reviews")
    op.drop_index("ix_decision_reviews_ws_answered", table_name="decision_reviews")
    op.drop_table("decision_reviews")
    op.drop_index("ix_decisions_ws_status_review", table_name="decisions")
    op.drop_column("decisions", "reversal_reason")
    op.drop_column("decisions", "reversed_at")
    op.drop_column("decisions", "review_on")
