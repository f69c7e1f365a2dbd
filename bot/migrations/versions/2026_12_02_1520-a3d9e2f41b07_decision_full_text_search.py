"""full-text search over decisions: SQLite FTS5, PostgreSQL tsvector + GIN

SQLite: ``decisions_fts``, an FTS5 external-content table over ``decisions`` (title, context,
resolution, drop_reason) with the ``unicode61 remove_diacritics 2`` tokenizer, kept in step by
triggers on insert, delete and on updates of those four columns, and rebuilt from the existing
rows here. PostgreSQL: an immutable ``ft_search_doc(...)`` function (``simple`` configuration,
``unaccent`` when the extension can be had, titles weighted A), a stored generated
``search_doc`` column from it with a GIN index,
plus a ``pg_trgm`` GIN index on titles for near spellings. The objects are listed in
``bot.decisions.search.SEARCH_OBJECTS``; the models do not describe them.

Revision ID: a3d9e2f41b07
Revises: b48e2f1c7d60
Create Date: 2026-12-02 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3d9e2f41b07"
down_revision: str | None = "b48e2f1c7d60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS_COLUMNS = "title, context, resolution, drop_reason"
_NEW = "new.id, new.title, new.context, new.resolution, new.drop_reason"
_OLD = "old.id, old.title, old.context, old.resolution, old.drop_reason"

SQLITE_UP = [
    "CREATE VIRTUAL TABLE decisions_fts USING fts5("
    f"{_FTS_COLUMNS}, content='decisions', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN "
    f"INSERT INTO decisions_fts(rowid, {_FTS_COLUMNS}) VALUES ({_NEW}); END",
    "CREATE TRIGGER decisions_fts_delete AFTER DELETE ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_FTS_COLUMNS}) "
    f"VALUES ('delete', {_OLD}); END",
    f"CREATE TRIGGER decisions_fts_update AFTER UPDATE OF {_FTS_COLUMNS} ON decisions BEGIN "
    f"INSERT INTO decisions_fts(decisions_fts, rowid, {_FTS_COLUMNS}) "
    f"VALUES ('delete', {_OLD}); "
    f"INSERT INTO decisions_fts(rowid, {_FTS_COLUMNS}) VALUES ({_NEW}); END",
    "INSERT INTO decisions_fts(decisions_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS decisions_fts_update",
    "DROP TRIGGER IF EXISTS decisions_fts_delete",
    "DROP TRIGGER IF EXISTS decisions_fts_insert",
    "DROP TABLE IF EXISTS decisions_fts",
]

_PG_DOC = """
CREATE FUNCTION ft_search_doc(title text, context text, resolution text, drop_reason text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple'::regconfig, ft_unaccent(coalesce(title, ''))), 'A')
      || setweight(to_tsvector('simple'::regconfig, ft_unaccent(
             coalesce(resolution, '') || ' ' || coalesce(drop_reason, ''))), 'B')
      || setweight(to_tsvector('simple'::regconfig, ft_unaccent(coalesce(context, ''))), 'C')
$$
"""
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_decisions_title_trgm",
    "DROP INDEX IF EXISTS ix_decisions_search",
    "ALTER TABLE decisions DROP COLUMN IF EXISTS search_doc",
    "DROP FUNCTION IF EXISTS ft_search_doc(text, text, text, text)",
    "DROP FUNCTION IF EXISTS ft_unaccent(text)",
]


def _try_extension(bind: sa.Connection, name: str) -> bool:
    """Create an extension if this role may; a refusal leaves the migration going without it."""
    present = bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = :n"), {"n": name})
    if present:
        return True
    try:
        with bind.begin_nested():
            bind.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {name}"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    if _try_extension(bind, "unaccent"):
        schema = bind.scalar(
            sa.text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
            )
        )
        unaccent = f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1)"
    else:
        unaccent = "SELECT $1"
    op.execute(
        "CREATE FUNCTION ft_unaccent(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ {unaccent} $$"
    )
    op.execute(_PG_DOC)
    # Stored, so ranking reads the vector instead of recomputing it for every match.
    op.execute(
        "ALTER TABLE decisions ADD COLUMN search_doc tsvector GENERATED ALWAYS AS "
        "(ft_search_doc(title, context, resolution, drop_reason)) STORED"
    )
    op.execute("CREATE INDEX ix_decisions_search ON decisions USING gin (search_doc)")
    if _try_extension(bind, "pg_trgm"):
        op.execute(
            "CREATE INDEX ix_decisions_title_trgm ON decisions USING gin (title gin_trgm_ops)"
        )


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN
    for statement in statements:
        op.execute(statement)
