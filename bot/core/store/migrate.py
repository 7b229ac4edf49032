"""Bring a database to the current schema with Alembic, safely from several processes at once.

- An empty database gets ``create_all`` and is stamped at head (one step, as Alembic's
  cookbook suggests; a test checks that this and the migration path give the same schema).
- A release-1 database (tables made by ``create_all``, no ``alembic_version``) is stamped
  0001, then upgraded.
- A versioned database is upgraded to head.

Two workers starting together must not both create tables: the whole upgrade runs in one
transaction under a lock (a PostgreSQL advisory lock; SQLite's write lock via BEGIN IMMEDIATE).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"
# Any constant works; it only has to be the same in every chathost process.
PG_MIGRATION_LOCK = 0x63686174686F7374  # "chathost"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config that needs no alembic.ini (installed packages carry no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_connection(connection: Connection, target: str = "head") -> None:
    """Upgrade on a sync connection already inside a transaction (see ``upgrade``)."""
    tables = set(inspect(connection).get_table_names())
    config = alembic_config(connection)
    if "alembic_version" not in tables:
        if "runs" in tables:  # release 1: create_all, unversioned
            command.stamp(config, FIRST_REVISION)
        elif target == "head":
            SQLModel.metadata.create_all(connection)
            command.stamp(config, "head")
            return
    command.upgrade(config, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``target`` in one locked transaction."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        elif conn.dialect.name == "sqlite":
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        await conn.run_sync(upgrade_connection, target)


async def revision_of(engine: AsyncEngine) -> str | None:
    """The database's schema revision (None when unversioned or empty)."""
    async with engine.connect() as conn:
        return await conn.run_sync(current_revision)
