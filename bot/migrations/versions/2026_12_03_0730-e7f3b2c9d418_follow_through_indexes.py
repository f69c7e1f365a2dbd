"""follow-through indexes

A decision's follow-through is looked up from both sides: its actions by ``decision_id`` (the
"has an action" test of orphans, the App Home list and the follow-through rate), and the
history entries that undo a decide by action and time ("topics decided again"). Indexes only.

Revision ID: e7f3b2c9d418
Revises: 888dc8226390
Create Date: 2026-12-03 07:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e7f3b2c9d418"
down_revision: str | None = "888dc8226390"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outcomes_decision", "outcomes", ["decision_id"])
    op.create_index(
        "ix_decision_events_ws_action_at",
        "decision_events",
        ["enterprise_id", "team_id", "action", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_decision_events_ws_action_at", table_name="decision_events")
    op.drop_index("ix_outcomes_decision", table_name="outcomes")
