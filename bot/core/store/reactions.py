"""Reactions: one per person, message and emoji, so a repeated event is a no-op."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from bot.core.store.base import StoreBase
from bot.core.store.tables import (
    MessageRow,
    ReactionRow,
)
from bot.core.store.values import storable

_message_table = MessageRow.__table__  # type: ignore[attr-defined]
_reaction_table = ReactionRow.__table__  # type: ignore[attr-defined]


class ReactionRecord(NamedTuple):
    """One reaction as the recap reads it (``Store.reaction_records``)."""

    message_id: int
    user_id: str
    user_name: str
    emoji: str


class ReactionsMixin(StoreBase):
    async def add_reaction(
        self, message_id: int, user_id: str, user_name: str, emoji: str, now: datetime
    ) -> bool:
        return await self._insert_once(
            ReactionRow,
            message_id=message_id,
            user_id=storable(user_id),
            user_name=storable(user_name),
            emoji=storable(emoji),
            created_at=now,
        )

    async def remove_reaction(self, message_id: int, user_id: str, emoji: str) -> bool:
        return await self._delete_where(
            ReactionRow,
            ReactionRow.message_id == message_id,
            ReactionRow.user_id == storable(user_id),
            ReactionRow.emoji == storable(emoji),
        )

    async def reactions_for_run(self, run_id: int) -> list[ReactionRow]:
        stmt = (
            select(ReactionRow)
            .join(MessageRow, MessageRow.id == ReactionRow.message_id)
            .where(MessageRow.run_id == run_id)
            .order_by(ReactionRow.id)
        )
        async with self.session() as s:
            return list((await s.execute(stmt)).scalars())

    async def reaction_records(self, run_id: int) -> list[ReactionRecord]:
        """Reactions to the run's messages as plain rows, oldest first (as ``reactions_for_run``
        orders them), without building ORM objects."""
        r, m = _reaction_table, _message_table
        stmt = (
            select(r.c.message_id, r.c.user_id, r.c.user_name, r.c.emoji)
            .join(m, m.c.id == r.c.message_id)
            .where(m.c.run_id == run_id)
            .order_by(r.c.id)
        )
        async with self.engine.connect() as conn:
            return [ReactionRecord._make(row) for row in (await conn.execute(stmt)).all()]
