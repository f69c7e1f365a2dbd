"""decisions and meetings: recorded in a direct message

``direct`` is true for an item recorded in a DM or a group DM (an mpim, whose id may start
with C or G like a channel's). It is set when the item is recorded, from the conversation's
id or what Slack says of it, so every surface can say "a direct message" instead of an id and
the digest can keep such items to their owner's own DM digest. Plain ``add_column`` with a
server default: existing rows read false, and the decisions table is not rebuilt (a rebuild
on SQLite would drop its full-text-search triggers).

Revision ID: e5f1a2b3c4d7
Revises: d5e8a1c3f702
Create Date: 2026-12-03 06:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f1a2b3c4d7"
down_revision: str | None = "d5e8a1c3f702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("decisions", "meetings")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table,
            sa.Column("direct", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    # Items recorded in a DM with the app before this column existed: their ids say so.
    for table in _TABLES:
        op.execute(sa.text(f"UPDATE {table} SET direct = true WHERE channel_id LIKE 'D%'"))


def downgrade() -> None:
    for table in _TABLES:
        op.drop_column(table, "direct")
