"""Participants as the nudge rules read them, and nudges: claimed once per person and
sequence number, delivered under a lease like posts."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select, update

from bot.core.store import prepared
from bot.core.store.base import StoreBase
from bot.core.store.tables import (
    NudgeRow,
    ParticipantRow,
)

_nudge_table = prepared.nudges
_participant_table = prepared.participants


class PersonActivity(NamedTuple):
    """Who spoke in a run and how often they were nudged: what the nudge rules read."""

    user_id: str
    user_name: str
    is_host: bool
    last_at: datetime
    nudges: int
    last_nudged: datetime | None


class NudgesMixin(StoreBase):
    async def participants(self, run_id: int) -> list[ParticipantRow]:
        c = _participant_table.c
        stmt = select(_participant_table).where(c.run_id == run_id).order_by(c.first_at, c.id)
        return await self._fetch(ParticipantRow, stmt)

    async def nudges(self, run_id: int) -> list[NudgeRow]:
        c = _nudge_table.c
        stmt = select(_nudge_table).where(c.run_id == run_id).order_by(c.id)
        return await self._fetch(NudgeRow, stmt)

    async def activity(self, run_id: int) -> list[PersonActivity]:
        """Each participant with their nudges counted: one query, where reading participants
        and nudges apart took two on every step of a running chat."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(prepared.ACTIVITY, {"p_run": run_id})).all()
        return [PersonActivity(*row) for row in rows]

    async def claim_nudge(
        self,
        run_id: int,
        user_id: str,
        seq: int,
        question_id: str | None,
        via: str,
        now: datetime,
        *,
        lease_until: datetime | None = None,
    ) -> bool:
        """Claim the ``seq``-th nudge of a person in a run; False if it was claimed before.

        Without ``lease_until`` the nudge counts as delivered at once (release-1 behaviour:
        at most once); with it, it stays pending until ``mark_nudge_delivered``.
        """
        stmt = (
            self._insert(NudgeRow)
            .values(
                run_id=run_id,
                user_id=user_id,
                seq=seq,
                question_id=question_id,
                via=via,
                sent_at=now,
                lease_until=lease_until,
                delivered_at=None if lease_until else now,
            )
            .on_conflict_do_nothing()
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def pending_nudges(self, max_attempts: int) -> list[NudgeRow]:
        """Claimed nudges not delivered yet (their claimer died or the platform failed)."""
        return await self._fetch(NudgeRow, prepared.PENDING_NUDGES, {"p_attempts": max_attempts})

    async def lease_nudge(self, nudge_id: int, now: datetime, until: datetime) -> NudgeRow | None:
        """Take a pending nudge's delivery if its lease ran out; the nudge, or None."""
        stmt = (
            update(NudgeRow)
            .where(
                NudgeRow.id == nudge_id,
                NudgeRow.delivered_at.is_(None),
                or_(NudgeRow.lease_until.is_(None), NudgeRow.lease_until <= now),
            )
            .values(lease_until=until)
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            if (await s.execute(stmt)).scalar_one_or_none() is None:
                return None
            return await s.get(NudgeRow, nudge_id)

    async def renew_nudge_lease(self, nudge_id: int, until: datetime) -> bool:
        """Keep a nudge in flight ours; False once it is delivered or abandoned."""
        stmt = (
            update(NudgeRow)
            .where(
                NudgeRow.id == nudge_id,
                NudgeRow.delivered_at.is_(None),
                NudgeRow.gave_up.is_(False),
            )
            .values(lease_until=until)
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def mark_nudge_delivered(self, nudge_id: int, now: datetime) -> None:
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id)
            .values(delivered_at=now, lease_until=None)
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def mark_nudge_failed(self, nudge_id: int, retry_at: datetime | None) -> None:
        """Count a failed attempt; ``retry_at`` None abandons it (the question moved on)."""
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id)
            .values(attempts=NudgeRow.attempts + 1, lease_until=retry_at, gave_up=retry_at is None)
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def find_nudge(self, run_id: int, user_id: str, seq: int) -> NudgeRow | None:
        stmt = select(NudgeRow).where(
            NudgeRow.run_id == run_id, NudgeRow.user_id == user_id, NudgeRow.seq == seq
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()
