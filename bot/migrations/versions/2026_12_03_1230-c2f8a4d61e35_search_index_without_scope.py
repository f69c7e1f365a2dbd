"""search (SQLite): the FTS5 index holds the text alone, without the ``scope`` tokens

Revision ``5d8f3b2a9c14`` put a ``scope`` column (workspace, status, channel, owner, recorder as
hex tokens) first in ``decisions_fts`` so filters could run inside the MATCH. Measured on
100,000 decisions (docs/BENCHMARKS.md) it cost more than it saved: ANDing a search with the
workspace's token merges the words' row lists with one holding every row of the workspace, and
every MATCH had to carry a column filter so words never matched a scope token, which makes
FTS5 decode every row's positions. Each ``/decision new`` also indexed five more tokens, and the
update trigger re-indexed the whole row on every status, owner or channel change. The search
now filters in SQL (``decisions`` by primary key), so the index is rebuilt with the five text
columns only, and the update trigger watches those columns alone. PostgreSQL is unchanged.

Revision ID: c2f8a4d61e35
Revises: b4d7e2a91c35
Create Date: 2026-12-03 12:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c2f8a4d61e35"
down_revision: str | None = "b4d7e2a91c35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "title, context, resolution, drop_reason, notes"


def _values(row: str) -> str:
    return ", ".join(f"{row}.{c}" for c in ("id", *_COLUMNS.split(", ")))


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS decisions_fts_update",
    "DROP TRIGGER IF EXISTS decisions_fts_delete",
    "DROP TRIGGER IF EXISTS decisions_fts_insert",
    "DROP TABLE IF EXISTS decisions_fts",
]
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE decisions_fts USING fts5({_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO decisions_fts(rowid, {_COLUMNS}) SELECT {_values('decisions')} FROM decisions",
    "CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
    f"INSERT INTO decisions_fts(rowid, {_COLUMNS}) VALUES ({_values('new')}); END",
    "CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_values('old')}); END",
    f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF {_COLUMNS} ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_values('old')}); "
    f"INSERT INTO decisions_fts(rowid, {_COLUMNS}) VALUES ({_values('new')}); END",
]


# Revision 5d8f3b2a9c14's index, put back on the way down (its scope tokens: see there).
_OLD_COLUMNS = "scope, title, context, resolution, drop_reason, notes"
_OLD_WATCHED = (
    "title, context, resolution, drop_reason, notes, status, channel_id, owner_id, creator_id, "
    "team_id, enterprise_id"
)


def _old_values(row: str) -> str:
    scope = (
        f"'w' || hex({row}.enterprise_id) || 'x' || hex({row}.team_id) || ' s' || {row}.status"
        f" || ' c' || hex({row}.channel_id) || ' o' || hex({row}.owner_id)"
        f" || ' r' || hex({row}.creator_id)"
    )
    return (
        f"{row}.id, {scope}, {row}.title, {row}.context, {row}.resolution, "
        f"{row}.drop_reason, {row}.notes"
    )


SQLITE_OLD_UP = [
    f"CREATE VIRTUAL TABLE decisions_fts USING fts5({_OLD_COLUMNS}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"INSERT INTO decisions_fts(rowid, {_OLD_COLUMNS}) "
    f"SELECT {_old_values('decisions')} FROM decisions",
    "CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
    f"INSERT INTO decisions_fts(rowid, {_OLD_COLUMNS}) VALUES ({_old_values('new')}); END",
    "CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_OLD_COLUMNS}) "
    f"VALUES ('delete', {_old_values('old')}); END",
    f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF {_OLD_WATCHED} ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_OLD_COLUMNS}) "
    f"VALUES ('delete', {_old_values('old')}); "
    f"INSERT INTO decisions_fts(rowid, {_OLD_COLUMNS}) VALUES ({_old_values('new')}); END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SQLITE_DROP + SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SQLITE_DROP + SQLITE_OLD_UP:
        op.execute(statement)
