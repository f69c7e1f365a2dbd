"""Alembic environment: async engine, URL from settings (or the caller), batch mode for SQLite.

Every online run first takes the migration lock (bot/migrate.py), then runs the whole upgrade
in that one transaction: concurrent `migrate` runs queue up instead of colliding.
"""

import asyncio
from collections.abc import Collection, Mapping
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection

from bot.db import create_engine
from bot.decisions.search import SEARCH_OBJECTS
from bot.migrate import Migrated, take_migration_lock
from bot.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from bot.settings import get_settings

    return get_settings().database_url


def _record(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    migrated = config.attributes.get("migrated")
    if isinstance(migrated, Migrated) and step.is_upgrade:
        migrated.applied.append(str(step.up_revision_id))


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate leaves the full-text search objects alone: migrations own them, not models."""
    return name not in SEARCH_OBJECTS


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        literal_binds=connection is None,
        on_version_apply=_record,
        include_object=include_object,
    )


def run_migrations_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    take_migration_lock(connection)
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(run_migrations_online())
