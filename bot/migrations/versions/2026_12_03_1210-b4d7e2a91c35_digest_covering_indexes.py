"""digest covering indexes

The weekly digest counts stalled, orphan and overdue items over a workspace's whole history
(issue 17 point 9: under 1 s for 100,000 decisions). These indexes hold every column those counts
read, so they are answered from the index without visiting the rows:

- ``ix_decisions_ws_created`` and ``ix_decisions_ws_decided`` gain the columns the period counts
  (and the time to decision) read; ``ix_decisions_ws_dropped``, partial, is new;
- ``ix_decisions_ws_status_activity`` gains the columns the stall rule reads of an idle decision
  (created_at, due_date, channel_id, direct, owner_id);
- ``ix_decisions_ws_orphans``, partial (decided, no "no action needed"), for orphan decisions;
- ``ix_outcomes_ws_kind_decision`` and ``ix_outcomes_ws_kind_done`` for the actions linked to
  decisions and the actions not yet done.

Indexes only (no table is altered, so the decisions table's FTS triggers are untouched).

Revision ID: b4d7e2a91c35
Revises: e6f9b2d4a813
Create Date: 2026-12-03 12:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4d7e2a91c35"
down_revision: str | None = "e6f9b2d4a813"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVITY = ["enterprise_id", "team_id", "status", "last_activity_at"]
_WIDENED = {
    "ix_decisions_ws_created": (
        ["enterprise_id", "team_id", "created_at"],
        ["channel_id", "direct", "owner_id"],
    ),
    "ix_decisions_ws_decided": (
        ["enterprise_id", "team_id", "decided_at"],
        ["status", "channel_id", "direct", "owner_id", "created_at"],
    ),
}
_ORPHANS_WHERE = "status = 'decided' AND no_action_at IS NULL"


def upgrade() -> None:
    for name, (columns, added) in _WIDENED.items():
        op.drop_index(name, table_name="decisions")
        op.create_index(name, "decisions", [*columns, *added])
    op.create_index(
        "ix_decisions_ws_dropped",
        "decisions",
        ["enterprise_id", "team_id", "dropped_at", "status", "channel_id", "direct", "owner_id"],
        sqlite_where=sa.text("dropped_at IS NOT NULL"),
        postgresql_where=sa.text("dropped_at IS NOT NULL"),
    )
    op.drop_index("ix_decisions_ws_status_activity", table_name="decisions")
    op.create_index(
        "ix_decisions_ws_status_activity",
        "decisions",
        [*_ACTIVITY, "created_at", "due_date", "channel_id", "direct", "owner_id"],
    )
    op.create_index(
        "ix_decisions_ws_orphans",
        "decisions",
        [
            "enterprise_id",
            "team_id",
            "decided_at",
            "channel_id",
            "direct",
            "owner_id",
            "status",
            "no_action_at",
        ],
        sqlite_where=sa.text(_ORPHANS_WHERE),
        postgresql_where=sa.text(_ORPHANS_WHERE),
    )
    op.create_index(
        "ix_outcomes_ws_kind_decision",
        "outcomes",
        ["enterprise_id", "team_id", "kind", "decision_id", "done_at"],
    )
    op.create_index(
        "ix_outcomes_ws_kind_done",
        "outcomes",
        [
            "enterprise_id",
            "team_id",
            "kind",
            "done_at",
            "due_date",
            "created_at",
            "meeting_id",
            "owner_id",
            "creator_id",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_outcomes_ws_kind_done", table_name="outcomes")
    op.drop_index("ix_outcomes_ws_kind_decision", table_name="outcomes")
    op.drop_index("ix_decisions_ws_orphans", table_name="decisions")
    op.drop_index("ix_decisions_ws_status_activity", table_name="decisions")
    op.create_index("ix_decisions_ws_status_activity", "decisions", _ACTIVITY)
    op.drop_index("ix_decisions_ws_dropped", table_name="decisions")
    for name, (columns, _) in _WIDENED.items():
        op.drop_index(name, table_name="decisions")
        op.create_index(name, "decisions", columns)
