"""A person's choices and rights: opting out of nudges, and being forgotten."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.store.base import StoreBase
from bot.core.store.tables import (
    MessageRow,
    NudgeRow,
    ParticipantRow,
    PickRow,
    ReactionRow,
    RunRow,
    UserPrefRow,
)


class Forgotten(NamedTuple):
    """What ``Store.forget_user`` removed: the count for the person's reply, and the runs
    whose posted recaps still show them until they are re-rendered."""

    messages: int
    run_ids: tuple[int, ...]


class PeopleMixin(StoreBase):
    async def quiet_users(self, platform: str) -> set[str]:
        stmt = select(UserPrefRow.user_id).where(
            UserPrefRow.platform == platform, UserPrefRow.quiet.is_(True)
        )
        async with self.engine.connect() as conn:
            return set((await conn.execute(stmt)).scalars())

    async def set_quiet(self, platform: str, user_id: str, quiet: bool, now: datetime) -> None:
        values = {"platform": platform, "user_id": user_id, "quiet": quiet, "updated_at": now}
        stmt = self._insert(UserPrefRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "user_id"], set_={"quiet": quiet, "updated_at": now}
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def forget_user(self, platform: str, user_id: str) -> Forgotten:
        """Delete a person's messages, reactions, picks, nudges and participation. The runs
        they touched are read in the same transaction, before the rows that name them go."""
        own = select(MessageRow.id).where(
            MessageRow.platform == platform, MessageRow.user_id == user_id
        )
        runs = select(RunRow.id).where(RunRow.platform == platform)
        async with self.session() as s:
            touched = await self._runs_touched_by(s, platform, user_id, runs)
            on_platform = select(MessageRow.id).where(MessageRow.platform == platform)
            for marks in (ReactionRow, PickRow):  # on their messages, and their own
                await s.execute(delete(marks).where(marks.message_id.in_(own)))
                await s.execute(
                    delete(marks).where(
                        marks.user_id == user_id, marks.message_id.in_(on_platform)
                    )
                )
            removed = await s.execute(
                delete(MessageRow)
                .where(MessageRow.platform == platform, MessageRow.user_id == user_id)
                .returning(MessageRow.id)
            )
            count = len(removed.all())
            await s.execute(
                delete(NudgeRow).where(NudgeRow.user_id == user_id, NudgeRow.run_id.in_(runs))
            )
            await s.execute(
                delete(ParticipantRow).where(
                    ParticipantRow.user_id == user_id, ParticipantRow.run_id.in_(runs)
                )
            )
            return Forgotten(count, touched)

    @staticmethod
    async def _runs_touched_by(
        s: AsyncSession, platform: str, user_id: str, runs: Any
    ) -> tuple[int, ...]:
        """The runs with the person's messages, reactions, picks, nudges or participation."""
        reacted, picked = (
            select(MessageRow.run_id)
            .join(marks, marks.message_id == MessageRow.id)
            .where(MessageRow.platform == platform, marks.user_id == user_id)
            for marks in (ReactionRow, PickRow)
        )
        wrote = select(MessageRow.run_id).where(
            MessageRow.platform == platform, MessageRow.user_id == user_id
        )
        joined = select(ParticipantRow.run_id).where(
            ParticipantRow.user_id == user_id, ParticipantRow.run_id.in_(runs)
        )
        nudged = select(NudgeRow.run_id).where(
            NudgeRow.user_id == user_id, NudgeRow.run_id.in_(runs)
        )
        found: set[int] = set()
        for query in (wrote, reacted, picked, joined, nudged):
            found.update((await s.execute(query)).scalars())
        return tuple(sorted(found))
