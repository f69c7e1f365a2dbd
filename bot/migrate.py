"""Run alembic from inside the app (``python -m bot migrate``, tests, start-up checks).

The migration scripts ship inside the package (``bot/migrations``), so an installed wheel migrates
exactly as a checkout does, from any directory and without an ini file. ``alembic.ini`` at the
checkout's root points at the same folder for ``alembic upgrade head`` and ``alembic revision``.

Migrations hold a lock while they run (`take_migration_lock`), so two release phases or two
containers migrating one database at once are safe: one migrates, the others wait for it and
then find nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# The key of the PostgreSQL advisory lock migrations hold ("Follow" in ASCII). Advisory locks are
# per database server, so any other application there must not use this number for its own lock.
MIGRATION_LOCK_KEY = 0x466F6C6C6F77


@dataclass
class Migrated:
    """What one ``upgrade`` did: the revisions it applied (none when the schema was current)."""

    applied: list[str] = field(default_factory=list)


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["database_url"] = database_url
    cfg.attributes["configure_logging"] = False
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def take_migration_lock(connection: Connection) -> None:
    """Hold the database's migration lock until ``connection``'s transaction ends.

    PostgreSQL: a transaction-scoped advisory lock; a second migration waits here until the
    first commits. SQLite: bot/db.py begins every transaction with ``BEGIN IMMEDIATE``, which
    takes the database's single write lock; a second migration waits for it (busy_timeout).
    Either way alembic reads the current revision only once it holds the lock, and the whole
    upgrade runs in this one transaction, so the waiting one finds nothing left to do.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    elif not connection.in_transaction():
        connection.begin()


def upgrade(database_url: str, revision: str = "head") -> Migrated:
    cfg = alembic_config(database_url)
    migrated = Migrated()
    cfg.attributes["migrated"] = migrated
    command.upgrade(cfg, revision)
    return migrated


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations this code carries."""

    current: tuple[str, ...]
    heads: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def ahead(self) -> bool:
        """Migrated by a newer release: it names revisions this code has no script for."""
        return bool(self.unknown)

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)


def schema_status(connection: Connection) -> SchemaStatus:
    """Read the database's revisions (alembic_version) and compare them with the scripts."""
    current = tuple(MigrationContext.configure(connection).get_current_heads())
    script = scripts()
    unknown = []
    for revision in current:
        try:
            script.get_revision(revision)
        except CommandError:
            unknown.append(revision)
    return SchemaStatus(current=current, heads=tuple(script.get_heads()), unknown=tuple(unknown))
