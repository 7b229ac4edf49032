"""Host picks: a host's ``/highlight`` of a message for the recap, one per host and message.

Their own table (schema 0004), where they used to be a fake reaction that every reader of
reactions had to filter out."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from bot.core.store.base import StoreBase
from bot.core.store.tables import MessageRow, PickRow
from bot.core.store.values import storable

_pick_table = PickRow.__table__  # type: ignore[attr-defined]
_message_table = MessageRow.__table__  # type: ignore[attr-defined]


class PickRecord(NamedTuple):
    """One pick as the recap reads it (``Store.pick_records``)."""

    message_id: int
    user_id: str
    user_name: str


class PicksMixin(StoreBase):
    async def add_pick(self, message_id: int, user_id: str, user_name: str, now: datetime) -> bool:
        """Pick a message as ``user_id``; False if that host had picked it already."""
        return await self._insert_once(
            PickRow,
            message_id=message_id,
            user_id=storable(user_id),
            user_name=storable(user_name),
            created_at=now,
        )

    async def remove_pick(self, message_id: int, user_id: str) -> bool:
        """Take ``user_id``'s pick of a message back; False if there was none."""
        return await self._delete_where(
            PickRow, PickRow.message_id == message_id, PickRow.user_id == storable(user_id)
        )

    async def pick_records(self, run_id: int) -> list[PickRecord]:
        """The picks of the run's messages, oldest first, as plain rows."""
        p, m = _pick_table, _message_table
        stmt = (
            select(p.c.message_id, p.c.user_id, p.c.user_name)
            .join(m, m.c.id == p.c.message_id)
            .where(m.c.run_id == run_id)
            .order_by(p.c.id)
        )
        async with self.engine.connect() as conn:
            return [PickRecord._make(row) for row in (await conn.execute(stmt)).all()]
