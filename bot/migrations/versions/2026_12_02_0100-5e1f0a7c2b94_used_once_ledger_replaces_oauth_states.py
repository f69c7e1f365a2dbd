"""used-once ledger for signed requests and OAuth states; no stored OAuth states

A signed Slack request (its signature) and an OAuth ``state`` may each be used once; the first
use is recorded in ``used_once`` until it has expired anyway, so a replay finds the row and is
refused, across processes. OAuth states are now signed tokens (slack_sdk's stateless store), so
``/slack/install`` writes nothing and ``slack_oauth_states`` goes. States issued before this
migration stop working: whoever was half-way through an install starts it again.

Revision ID: 5e1f0a7c2b94
Revises: f7c5af17fe71
Create Date: 2026-12-02 01:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0a7c2b94"
down_revision: str | None = "f7c5af17fe71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_once",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_used_once")),
    )
    with op.batch_alter_table("used_once", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_once_expires_at"), ["expires_at"], unique=False)
    op.drop_table("slack_oauth_states")


def downgrade() -> None:
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )
    with op.batch_alter_table("used_once", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_once_expires_at"))
    op.drop_table("used_once")
