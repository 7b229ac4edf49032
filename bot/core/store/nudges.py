"""Participants as the nudge rules read them, and nudges: claimed once per person and
sequence number, delivered under a lease like posts."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, update

from bot.core.store import prepared
from bot.core.store.base import StoreBase
from bot.core.store.tables import (
    NudgeRow,
    ParticipantRow,
)


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
        return await self._fetch(ParticipantRow, prepared.RUN_PARTICIPANTS, {"p_run": run_id})

    async def nudges(self, run_id: int) -> list[NudgeRow]:
        return await self._fetch(NudgeRow, prepared.RUN_NUDGES, {"p_run": run_id})

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
    ) -> NudgeRow | None:
        """Claim the ``seq``-th nudge of a person in a run: the claimed row, or None if it was
        claimed before (by us or another process).

        Without ``lease_until`` the nudge counts as delivered at once (release-1 behaviour:
        at most once); with it, it stays pending until ``mark_nudge_delivered``.
        """
        values = {
            "p_run_id": run_id,
            "p_user_id": user_id,
            "p_seq": seq,
            "p_question_id": question_id,
            "p_via": via,
            "p_sent_at": now,
            "p_lease_until": lease_until,
            "p_delivered_at": None if lease_until else now,
        }
        async with self.engine.begin() as conn:
            found = await conn.execute(prepared.claim_nudge(self.dialect), values)
            row = found.mappings().first()
        return None if row is None else NudgeRow.model_construct(**row)

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
