"""Nudging a running chat's quiet participants: who is due (bot/core/nudges.py decides),
claiming each nudge so that one process sends it, and sending it (again, when its sender
failed or died) through bot/core/delivery.py.

Who spoke and who opted out is read once per run and per platform within a tick: nudging, then
working out when the run next needs waking, would otherwise read it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core import wording
from bot.core.delivery import NUDGE_ATTEMPTS, Courier, Destination, ToChannel, ToPerson
from bot.core.engine_context import EngineContext, chat_of
from bot.core.events import User
from bot.core.nudges import Activity, due_nudges, next_nudge_time
from bot.core.plan import Chat
from bot.core.ports import Outgoing, PortError, PostedRef
from bot.core.run_states import RunState
from bot.core.store import NudgeRow, RunRow, Store

RetryReminder = Callable[[RunRow, Chat, NudgeRow, datetime], Awaitable[bool]]

log = logging.getLogger("chathost.engine")


class Nudger:
    def __init__(self, ctx: EngineContext, courier: Courier) -> None:
        self.ctx = ctx
        self.courier = courier
        self._people: dict[int, list[Activity]] | None = None  # None: not in a tick
        self._quiet: dict[str, set[str]] | None = None
        # An async chat's reminders (bot/core/engine_reminders.py) are stored as nudges: a
        # claimed one is retried through them; False when its question has closed.
        self.retry_reminder: RetryReminder | None = None

    def begin_tick(self) -> None:
        self._people, self._quiet = {}, {}

    def end_tick(self) -> None:
        self._people = self._quiet = None

    async def nudge(self, run: RunRow, chat: Chat, now: datetime) -> None:
        """Claim and send the nudges due in a running run."""
        if run.current_question is None or not nudging(chat):
            return
        store = self.ctx.store
        people = await self._activities(run)
        quiet = await self.quiet_users(chat.platform)
        question = chat.question(run.current_question)
        for person in due_nudges(
            people,
            now=now,
            settings=chat.nudges,
            last_question_at=run.current_question_at,
            opted_out=quiet,
        ):
            if self.ctx.stopping:
                return
            seq = person.nudges_sent + 1
            nudge = await store.claim_nudge(
                run.id,
                person.user_id,
                seq,
                run.current_question,
                chat.nudges.via,
                now,
                lease_until=now + self.ctx.claim_lease,
            )
            if self._people is not None:
                self._people.pop(run.id or 0, None)  # nudges sent changed
            if nudge is not None and question is not None:
                user = User(id=person.user_id, name=person.user_name)
                await self._send(chat, user, question.id, question.text, nudge)

    async def next_time(self, run: RunRow, chat: Chat) -> datetime | None:
        """When the run's next nudge could fall due (None: none can)."""
        if run.current_question is None or not nudging(chat):
            return None
        return next_nudge_time(
            await self._activities(run),
            settings=chat.nudges,
            last_question_at=run.current_question_at,
            opted_out=await self.quiet_users(chat.platform),
        )

    async def retry_pending(self, now: datetime) -> None:
        """Send the claimed nudges whose sender failed or died (lease run out)."""
        for nudge in await self.ctx.store.pending_nudges(NUDGE_ATTEMPTS):
            if (nudge.lease_until is not None and now < nudge.lease_until) or self.ctx.stopping:
                continue
            await self._retry(nudge, now)

    async def pending_wakes(self, now: datetime) -> list[datetime]:
        """When each claimed but unsent nudge may be retried."""
        pending = await self.ctx.store.pending_nudges(NUDGE_ATTEMPTS)
        return [max(now, nudge.lease_until or now) for nudge in pending]

    async def _retry(self, nudge: NudgeRow, now: datetime) -> None:
        store = self.ctx.store
        run = await store.get_run(nudge.run_id)
        if run is not None and run.state == RunState.RUNNING and self.retry_reminder is not None:
            chat = chat_of(run)
            if chat.is_async:
                if not await self.retry_reminder(run, chat, nudge, now):
                    await store.mark_nudge_failed(nudge.id or 0, None)  # its question closed
                return
        moved_on = run is not None and run.current_question != nudge.question_id
        if run is None or run.state != RunState.RUNNING or moved_on:
            await store.mark_nudge_failed(nudge.id or 0, None)  # its moment has passed
            return
        taken = await store.lease_nudge(nudge.id or 0, now, now + self.ctx.claim_lease)
        if taken is None:
            return
        chat = chat_of(run)
        names = {p.user_id: p.user_name for p in await store.participants(run.id or 0)}
        question = chat.question(nudge.question_id or "")
        if question is not None:
            user = User(id=nudge.user_id, name=names.get(nudge.user_id, nudge.user_id))
            await self._send(chat, user, question.id, question.text, taken, recover=True)

    async def _send(
        self,
        chat: Chat,
        user: User,
        qid: str,
        qtext: str,
        nudge: NudgeRow,
        *,
        recover: bool = False,
    ) -> None:
        """Send a claimed nudge; ``recover``: an earlier attempt may have landed unrecorded,
        so the platform is asked for it first (a nudge twice is the rudeness we avoid)."""
        text = wording.nudge(
            chat.nudges.text,
            name=user.name,
            question_id=qid,
            question=qtext,
            title=chat.title,
            tag=chat.tag,
        )
        key = f"{chat.id}/{nudge.run_id}/nudge:{user.id}:{nudge.seq}"
        message = Outgoing(
            "nudge", text, chat.title, chat.tag, question_id=qid, mention=user, key=key
        )
        where: Destination = ToPerson(user) if chat.nudges.via == "dm" else ToChannel(chat.channel)
        parcel = NudgeParcel(
            self.ctx.store,
            nudge,
            message,
            where,
            label=f"the nudge to {user.name}",
            subject=f"the nudge to {user.name}",
        )
        await self.courier.deliver(self.ctx.port(chat), parcel, recover=recover)

    async def quiet_users(self, platform: str) -> set[str]:
        """Who opted out of nudges; read once per tick (not once per run) during a tick."""
        memo = self._quiet
        if memo is None:
            return await self.ctx.store.quiet_users(platform)
        if platform not in memo:
            memo[platform] = await self.ctx.store.quiet_users(platform)
        return memo[platform]

    async def _activities(self, run: RunRow) -> list[Activity]:
        """Who spoke and who was nudged; within a tick read once per run."""
        memo = self._people
        if memo is not None and (run.id or 0) in memo:
            return memo[run.id or 0]
        people = [
            Activity(
                user_id=p.user_id,
                user_name=p.user_name,
                last_spoke=p.last_at,
                nudges_sent=p.nudges,
                last_nudged=p.last_nudged,
                is_host=p.is_host,
            )
            for p in await self.ctx.store.activity(run.id or 0)
        ]
        if memo is not None:
            memo[run.id or 0] = people
        return people


@dataclass(frozen=True)
class NudgeParcel:
    """A claimed nudge, as bot/core/delivery.py carries it; its message is built before the
    delivery starts (the chat's own template is filled in)."""

    store: Store
    nudge: NudgeRow
    message: Outgoing
    where: Destination
    label: str
    subject: str
    max_attempts: int = NUDGE_ATTEMPTS

    @property
    def attempts(self) -> int:
        return self.nudge.attempts

    @property
    def claimed_at(self) -> datetime:
        return self.nudge.sent_at

    async def render(self) -> tuple[Outgoing, Destination]:
        return self.message, self.where

    async def renew(self, until: datetime) -> bool:
        return await self.store.renew_nudge_lease(self.nudge.id or 0, until)

    async def record_sent(self, ref: PostedRef, at: datetime) -> None:
        await self.store.mark_nudge_delivered(self.nudge.id or 0, at)

    async def record_failed(self, error: str, *, give_up: bool, retry_at: datetime | None) -> None:
        """``retry_at`` None abandons the nudge."""
        await self.store.mark_nudge_failed(self.nudge.id or 0, retry_at)

    async def give_up(self, error: PortError) -> None:
        """A nudge is not worth bothering the hosts."""


def nudging(chat: Chat) -> bool:
    """Whether the chat can nudge anyone at all: if not, who spoke need not be read."""
    return not chat.is_async and chat.nudges.enabled and chat.nudges.max_per_person > 0
