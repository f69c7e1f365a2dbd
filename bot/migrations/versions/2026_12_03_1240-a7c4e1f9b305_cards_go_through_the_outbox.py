"""cards go through the outbox: drop decisions.card_due_at

A new decision's channel card is a row of the deliveries ledger now (bot/decisions/cards.py),
planned with the decision; ``card_due_at`` and its index kept the card's place before and are
gone. Plain ``DROP INDEX`` and ``ALTER TABLE … DROP COLUMN`` on both engines (SQLite >= 3.35):
never batch mode, which would rebuild ``decisions`` and lose its full-text search triggers.
A card still pending at upgrade time (posted by neither process) becomes its ledger row, due
when it was; going down, pending card rows are left in the ledger (an older worker has no
composer for them and fails them after its retries).

Revision ID: a7c4e1f9b305
Revises: f1a7c3e9d205
Create Date: 2026-12-03 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c4e1f9b305"
down_revision: str | None = "f1a7c3e9d205"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    payload = """'{"number": ' || number || '}'"""
    if postgres:
        payload = f"CAST({payload} AS JSON)"
    op.execute(
        "INSERT INTO deliveries (enterprise_id, team_id, kind, subject, recipient, period, "
        "status, due_at, attempts, payload, created_at, updated_at) "
        "SELECT enterprise_id, team_id, 'card:decision', 'D-' || number, channel_id, 'new', "
        f"'pending', card_due_at, 0, {payload}, created_at, created_at FROM decisions "
        "WHERE card_due_at IS NOT NULL AND message_ts IS NULL"
    )
    op.drop_index("ix_decisions_card_due", table_name="decisions")
    op.drop_column("decisions", "card_due_at")


def downgrade() -> None:
    op.add_column("decisions", sa.Column("card_due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_decisions_card_due", "decisions", ["card_due_at"], unique=False)
