"""Chats and runs: a run is created once per start, and every change to it is a
compare-and-set on its ``version``, so that of two processes acting on the same stale view
exactly one wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.core.plan import Chat
from bot.core.run_states import OPEN, RunState
from bot.core.store import prepared
from bot.core.store.posts import PostClaim, PostsMixin
from bot.core.store.tables import (
    ChatRow,
    PostRow,
    RunRow,
)

_run_table = prepared.runs


class RunsMixin(PostsMixin):
    async def upsert_chat(self, chat: Chat) -> None:
        values = {
            "id": chat.id,
            "title": chat.title,
            "tag": chat.tag,
            "platform": chat.platform,
            "channel": chat.channel,
            "plan_json": chat.model_dump_json(),
        }
        stmt = self._insert(ChatRow).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=values)
        async with self.session() as s:
            await s.execute(stmt)

    async def ensure_run(self, chat: Chat, scheduled_start: datetime, end_at: datetime) -> RunRow:
        """The run of ``chat`` starting at ``scheduled_start``, created once."""
        values = {
            "chat_id": chat.id,
            "platform": chat.platform,
            "channel": chat.channel,
            "scheduled_start": scheduled_start,
            "end_at": end_at,
            "plan_json": chat.model_dump_json(),
        }
        async with self.session() as s:
            await s.execute(self._insert(RunRow).values(**values).on_conflict_do_nothing())
            found = await s.execute(
                select(RunRow).where(
                    RunRow.chat_id == chat.id, RunRow.scheduled_start == scheduled_start
                )
            )
            return found.scalar_one()

    async def get_run(self, run_id: int) -> RunRow | None:
        found = await self._fetch(RunRow, prepared.GET_RUN, {"p_id": run_id})
        return found[0] if found else None

    async def open_runs(self) -> list[RunRow]:
        return await self._runs(RunRow.state.in_(OPEN))

    async def open_run_versions(self) -> list[tuple[int, int]]:
        """Each open run's id and version, by start: what a full pass needs to tell which
        runs to read in full (building a thousand rows as models took ~60 ms a pass)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(prepared.OPEN_RUN_VERSIONS)).all()
        return [(row[0], row[1]) for row in rows]

    async def runs_for_chat(self, chat_id: str) -> list[RunRow]:
        return await self._runs(RunRow.chat_id == chat_id)

    async def all_runs(self) -> list[RunRow]:
        return await self._runs()

    async def _runs(self, *where: Any) -> list[RunRow]:
        stmt = select(_run_table).where(*where).order_by(_run_table.c.scheduled_start)
        return await self._fetch(RunRow, stmt)

    async def live_runs(self, ended_since: datetime) -> list[RunRow]:
        """Runs that can still take messages: open ones, and those ended after ``ended_since``."""
        return await self._runs(
            RunRow.state.in_(OPEN)
            | ((RunRow.state == RunState.SUMMARISED) & (RunRow.ended_at >= ended_since))
        )

    async def transition(
        self, run: RunRow, changes: dict[str, Any], claim: PostClaim | None = None
    ) -> tuple[RunRow | None, PostRow | None]:
        """Change a run and claim the post it causes in one transaction, or do neither.

        The compare-and-set on ``version`` means that of two processes (or two coroutines)
        acting on the same stale view, exactly one wins; the loser re-reads and re-decides.
        """
        stmt = prepared.run_cas(tuple(sorted(changes)))
        params = {f"p_{name}": value for name, value in changes.items()}
        params.update(p_id=run.id, p_version=run.version, p_next=run.version + 1)
        async with self.engine.begin() as conn:
            if (await conn.execute(stmt, params)).scalar_one_or_none() is None:
                return None, None
            post = await self._claim(conn, run.id, claim) if claim else None
        return run.model_copy(update={**changes, "version": run.version + 1}), post

    async def update_run(self, run: RunRow, **changes: Any) -> RunRow | None:
        """Compare-and-set: applies only if nobody changed the run since ``run`` was read."""
        stmt = (
            update(RunRow)
            .where(RunRow.id == run.id, RunRow.version == run.version)
            .values(**changes, version=run.version + 1)
            .returning(RunRow.id)
        )
        async with self.session() as s:
            won = (await s.execute(stmt)).scalar_one_or_none() is not None
        if not won:
            return None
        return run.model_copy(update={**changes, "version": run.version + 1})

    async def runs_by_id(self, run_ids: list[int]) -> list[RunRow]:
        """Open runs among ``run_ids``, by start: a tick between full passes reads only the
        runs that are due, not every open run."""
        if not run_ids:
            return []
        return await self._fetch(RunRow, prepared.OPEN_RUNS_BY_ID, {"p_ids": run_ids})

    async def latest_run(self) -> RunRow | None:
        """The run that started last (``chathost export latest``): future runs have no data."""
        stmt = (
            select(RunRow)
            .where(RunRow.started_at.is_not(None))
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(1)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()

    async def get_chat(self, chat_id: str) -> ChatRow | None:
        async with self.session() as s:
            return await s.get(ChatRow, chat_id)

    async def chats(self) -> list[ChatRow]:
        async with self.session() as s:
            return list((await s.execute(select(ChatRow).order_by(ChatRow.id))).scalars())
