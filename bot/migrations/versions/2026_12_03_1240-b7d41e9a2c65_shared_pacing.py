"""shared pacing

Senders in several processes keep to Slack's limits together (`bot.delivery.ledger.claim`):
a claim looks at what went out lately (``sent_at``) and what is in flight
(``lease_expires_at``), and at the 429 holds every sender shares (``delivery_holds``).

Revision ID: b7d41e9a2c65
Revises: c2f8a4d61e35
Create Date: 2026-12-03 12:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d41e9a2c65"
down_revision: str | None = "c2f8a4d61e35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_holds",
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "team_id", "channel", name=op.f("pk_delivery_holds")
        ),
    )
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])
    op.create_index("ix_deliveries_lease_expires", "deliveries", ["lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_lease_expires", table_name="deliveries")
    op.drop_index("ix_deliveries_sent_at", table_name="deliveries")
    op.drop_table("delivery_holds")
