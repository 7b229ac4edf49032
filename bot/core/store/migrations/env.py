"""Alembic environment for chathost.

``open_store`` passes its own connection (``config.attributes["connection"]``) so the upgrade
runs inside the store's transaction and lock. The ``alembic`` command line (alembic.ini at the
top of the repository) instead connects to ``-x url=...``, ``$DATABASE_URL`` or the settings'
default, through the same async drivers the bot uses.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.core.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)  # the alembic CLI


def _url() -> str:
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from bot.settings import Settings

    return Settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    from bot.core.store.database import create_engine_for

    engine = create_engine_for(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


def run_offline() -> None:
    """``alembic upgrade head --sql``: print the SQL for a DBA instead of running it."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given: Any = config.attributes.get("connection")
    if given is not None:
        _configure(given)
    else:
        asyncio.run(_run_with_own_engine())


if context.is_offline_mode():
    run_offline()
else:
    run_online()
