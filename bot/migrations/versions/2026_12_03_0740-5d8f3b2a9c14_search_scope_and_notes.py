"""search: notes are searchable; SQLite ranks and filters inside the FTS5 index

``decisions.notes`` holds the decision's notes (one a line, appended by the write path) and is
filled here from the history's "noted" events. SQLite: ``decisions_fts`` becomes a contentless
FTS5 table whose first column, ``scope``, holds one token each for the workspace, the status,
the channel, the owner and the recorder (``bot.decisions.search.scope_tokens`` makes the same
tokens from Python), so a search's workspace, filters and privacy rule are part of the MATCH and
only rows that may be shown are ever ranked; triggers keep it in step on insert, delete and on
updates of any column it holds. PostgreSQL: ``search_doc`` is regenerated with the notes in it
(weight C, beside the context), its GIN index rebuilt.

Revision ID: 5d8f3b2a9c14
Revises: e7f3b2c9d418
Create Date: 2026-12-03 07:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8f3b2a9c14"
down_revision: str | None = "e7f3b2c9d418"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "scope, title, context, resolution, drop_reason, notes"
_WATCHED = (
    "title, context, resolution, drop_reason, notes, status, channel_id, owner_id, creator_id, "
    "team_id, enterprise_id"
)


def _scope(row: str) -> str:
    """The scope tokens of ``row`` (new/old/decisions) as SQL: see ``search.scope_tokens``."""
    return (
        f"'w' || hex({row}.enterprise_id) || 'x' || hex({row}.team_id) || ' s' || {row}.status"
        f" || ' c' || hex({row}.channel_id) || ' o' || hex({row}.owner_id)"
        f" || ' r' || hex({row}.creator_id)"
    )


def _values(row: str) -> str:
    return (
        f"{row}.id, {_scope(row)}, {row}.title, {row}.context, {row}.resolution, "
        f"{row}.drop_reason, {row}.notes"
    )


# The index of revision a3d9e2f41b07, dropped on the way up and put back on the way down.
_OLD_COLUMNS = "title, context, resolution, drop_reason"
_OLD_NEW = "new.id, new.title, new.context, new.resolution, new.drop_reason"
_OLD_OLD = "old.id, old.title, old.context, old.resolution, old.drop_reason"
SQLITE_OLD_UP = [
    "CREATE VIRTUAL TABLE decisions_fts USING fts5("
    f"{_OLD_COLUMNS}, content='decisions', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
    f"INSERT INTO decisions_fts(rowid, {_OLD_COLUMNS}) VALUES ({_OLD_NEW}); END",
    "CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_OLD_COLUMNS}) "
    f"VALUES ('delete', {_OLD_OLD}); END",
    f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF {_OLD_COLUMNS} ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_OLD_COLUMNS}) "
    f"VALUES ('delete', {_OLD_OLD}); "
    f"INSERT INTO decisions_fts(rowid, {_OLD_COLUMNS}) VALUES ({_OLD_NEW}); END",
    "INSERT INTO decisions_fts(decisions_fts) VALUES ('rebuild')",
]
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
    f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF {_WATCHED} ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_COLUMNS}) "
    f"VALUES ('delete', {_values('old')}); "
    f"INSERT INTO decisions_fts(rowid, {_COLUMNS}) VALUES ({_values('new')}); END",
]

SQLITE_BACKFILL = """
UPDATE decisions SET notes = (
  SELECT group_concat(json_extract(e.detail, '$.text'), char(10)) FROM (
    SELECT detail FROM decision_events WHERE decision_id = decisions.id AND action = 'noted'
    ORDER BY id) AS e)
WHERE id IN (SELECT decision_id FROM decision_events WHERE action = 'noted')
"""
PG_BACKFILL = """
UPDATE decisions SET notes = n.text FROM (
  SELECT decision_id, string_agg(detail ->> 'text', E'\\n' ORDER BY id) AS text
  FROM decision_events WHERE action = 'noted' GROUP BY decision_id) AS n
WHERE n.decision_id = decisions.id
"""

_PG_DOC = """
CREATE FUNCTION ft_search_doc(
  title text, context text, resolution text, drop_reason text, notes text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple'::regconfig, ft_unaccent(coalesce(title, ''))), 'A')
      || setweight(to_tsvector('simple'::regconfig, ft_unaccent(
             coalesce(resolution, '') || ' ' || coalesce(drop_reason, ''))), 'B')
      || setweight(to_tsvector('simple'::regconfig, ft_unaccent(
             coalesce(context, '') || ' ' || coalesce(notes, ''))), 'C')
$$
"""
PG_UP = [
    "DROP INDEX IF EXISTS ix_decisions_search",
    "ALTER TABLE decisions DROP COLUMN IF EXISTS search_doc",
    _PG_DOC,
    "ALTER TABLE decisions ADD COLUMN search_doc tsvector GENERATED ALWAYS AS "
    "(ft_search_doc(title, context, resolution, drop_reason, notes)) STORED",
    "CREATE INDEX ix_decisions_search ON decisions USING gin (search_doc)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_decisions_search",
    "ALTER TABLE decisions DROP COLUMN IF EXISTS search_doc",
    "DROP FUNCTION IF EXISTS ft_search_doc(text, text, text, text, text)",
    "ALTER TABLE decisions ADD COLUMN search_doc tsvector GENERATED ALWAYS AS "
    "(ft_search_doc(title, context, resolution, drop_reason)) STORED",
    "CREATE INDEX ix_decisions_search ON decisions USING gin (search_doc)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The old triggers go first, so the backfill below does not re-index every noted row.
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.add_column("decisions", sa.Column("notes", sa.Text(), nullable=True))
    op.execute(SQLITE_BACKFILL if sqlite else PG_BACKFILL)
    for statement in SQLITE_UP if sqlite else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
        # Not batch mode: a copy of the table would lose the triggers put back below.
        op.execute("ALTER TABLE decisions DROP COLUMN notes")
        for statement in SQLITE_OLD_UP:
            op.execute(statement)
        return
    for statement in PG_DOWN:
        op.execute(statement)
    op.execute("ALTER TABLE decisions DROP COLUMN notes")
