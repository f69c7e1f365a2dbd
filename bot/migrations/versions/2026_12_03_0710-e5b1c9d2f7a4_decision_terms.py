"""decision_terms: the re-litigation lookup's per-decision signature

One row per normalised term (``bot.decisions.similar.terms``) of a decision's title and
resolution, indexed by (workspace, term, decision), so the lookup reads the rows of a new
title's rarest terms instead of ranking the whole workspace. Filled here for the decisions
already recorded; the write path keeps it in step from then on.

Revision ID: e5b1c9d2f7a4
Revises: e5b1c9d3f2a8
Create Date: 2026-12-03 07:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b1c9d2f7a4"
down_revision: str | None = "e5b1c9d3f2a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "decision_terms",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("decision_id", "term"),
    )
    op.create_index(
        "ix_decision_terms_ws_term",
        "decision_terms",
        ["enterprise_id", "team_id", "term", "decision_id"],
        unique=False,
    )
    _fill()


def _fill() -> None:
    # The normalisation is the application's own: a decision's terms are what it would write.
    from bot.decisions.models import decision_terms

    bind = op.get_bind()
    terms_table = sa.table(
        "decision_terms",
        sa.column("decision_id"),
        sa.column("term"),
        sa.column("enterprise_id"),
        sa.column("team_id"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, enterprise_id, team_id, title, resolution FROM decisions "
                "WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        values = [
            {"decision_id": r.id, "term": t, "enterprise_id": r.enterprise_id, "team_id": r.team_id}
            for r in rows
            for t in decision_terms(r.title, r.resolution)
        ]
        if values:
            bind.execute(sa.insert(terms_table), values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_decision_terms_ws_term", table_name="decision_terms")
    op.drop_table("decision_terms")
