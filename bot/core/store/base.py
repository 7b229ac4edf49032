"""What every part of the Store shares: the engine, sessions, Core reads and the dialect's
insert (for ``ON CONFLICT``). The parts (runs, posts, messages, ...) are mixins over it, each
one table's reads and writes, and ``Store`` combines them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import configure_mappers
from sqlmodel import SQLModel

_Row = TypeVar("_Row", bound=SQLModel)


class StoreError(Exception):
    """A database problem, with the operation that hit it."""


class StoreBase:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        configure_mappers()  # rows are built with model_construct before any ORM query runs

    async def create_all(self) -> None:
        """Tables without versioning; kept for callers of release 1. Prefer ``migrate``."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def migrate(self, target: str = "head") -> None:
        """Upgrade the schema with Alembic (safe when several processes start at once)."""
        from bot.core.store.migrate import upgrade

        await upgrade(self.engine, target)

    async def ping(self) -> None:
        """One round trip to the database; raises when it does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    async def _fetch(
        self, model: type[_Row], stmt: Any, params: dict[str, Any] | None = None
    ) -> list[_Row]:
        """Rows of one table as models, read through Core. The engine reads runs, posts and
        nudges on every step of every chat; the ORM session (identity map, unit of work) costs
        about half as much again per query and none of these reads needs it."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt, params)).mappings().all()
        return [model.model_construct(**row) for row in rows]

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    async def _insert_once(self, table: Any, **values: Any) -> bool:
        """Insert a row its unique key may already hold (a repeated event); True if new."""
        stmt = self._insert(table).values(**values).on_conflict_do_nothing().returning(table.id)
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def _delete_where(self, table: Any, *where: Any) -> bool:
        """Delete the rows that match; True if there were any."""
        async with self.session() as s:
            return (
                await s.execute(delete(table).where(*where).returning(table.id))
            ).first() is not None
