"""A run's transitions: announce, start, post or skip a question, pause, resume, extend, end,
summarise. Each is one compare-and-set on the run row, stored with the claim of the post it
causes; the claimer then delivers the post (bot/core/engine_posts.py).

What a transition leaves behind is kept for the engine's loop (bot/core/engine.py): the newest
version this process wrote per run (a copy at least as new may be trusted without a read),
the run as the transition left it, and the runs whose compare-and-set lost (their copy was
stale: read again and decide again).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from bot.core.agenda import Agenda
from bot.core.engine_context import EngineContext, changed_meanwhile, chat_of
from bot.core.engine_posts import RunPosts
from bot.core.plan import Chat
from bot.core.run_states import WAITING, RunState
from bot.core.store import PostClaim, PostRow, RunRow

log = logging.getLogger("chathost.engine")


class RunSteps:
    def __init__(self, ctx: EngineContext, agenda: Agenda, posts: RunPosts) -> None:
        self.ctx = ctx
        self.agenda = agenda
        self.posts = posts
        self._written: dict[int, int] = {}
        self._after: dict[int, RunRow] = {}
        self._raced: set[int] = set()

    # what a transition left for the loop

    def forget_outcome(self, run_id: int) -> None:
        """Before a step: what an earlier transition (a command's) left is not this step's."""
        self._after.pop(run_id, None)
        self._raced.discard(run_id)

    def outcome(self, run_id: int) -> tuple[bool, RunRow | None]:
        """After a step: whether its compare-and-set lost, and the run as it left it."""
        after = self._after.pop(run_id, None)
        raced = run_id in self._raced
        self._raced.discard(run_id)
        return raced, after

    def is_current(self, run: RunRow) -> bool:
        """Whether ``run`` is at least as new as what this process last wrote to it."""
        return run.version >= self._written.get(run.id or 0, -1)

    async def transition(
        self, run: RunRow, changes: dict[str, object], claim: PostClaim | None = None
    ) -> PostRow | bool | None:
        """The post the transition claimed (or True); None when another process or a command
        moved the run first."""
        if claim is not None and not claim.skipped:
            # The claimer owns the delivery from the moment of the claim (not from claim.at,
            # which may lie in the past when a late engine catches up).
            lease_until = self.ctx.clock.now() + self.ctx.claim_lease
            claim = dataclasses.replace(claim, owner=self.ctx.worker_id, lease_until=lease_until)
        new_run, post = await self.ctx.store.transition(run, changes, claim)
        if new_run is None:
            self._raced.add(run.id or 0)  # somebody else moved the run first: re-read
            return None
        self.agenda.touch(run.id or 0)
        self._written[run.id or 0] = new_run.version
        self._after[run.id or 0] = new_run
        if post is not None:
            if not post.skipped:
                await self.posts.deliver(new_run, post)
            return post
        return True

    # the clock's steps

    async def miss(self, run: RunRow) -> bool:
        """Nobody took up the start within its window."""
        return await self.transition(run, {"state": RunState.MISSED}) is not None

    async def announce(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        due = [o for o in chat.announce if run.scheduled_start - o <= now]
        if not due or (run.state == RunState.ANNOUNCED and not _newer_announcement(run, due)):
            return False
        latest = min(due)  # the closest to the start; older ones are stale now
        claim = PostClaim(f"announce:{int(latest.total_seconds())}", "announce", now)
        changes = {"state": RunState.ANNOUNCED, "announced_offset": int(latest.total_seconds())}
        return await self.transition(run, changes, claim) is not None

    async def start(self, run: RunRow, chat: Chat, started_at: datetime) -> bool:
        changes = {
            "state": RunState.RUNNING,
            "started_at": started_at,
            "end_at": started_at + run_length(chat),
        }
        return (
            await self.transition(run, changes, PostClaim("intro", "intro", started_at)) is not None
        )

    async def post_due_question(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        if run.next_question >= len(chat.questions):
            return False
        if question_due(run, chat, run.next_question) > now:
            return False
        return await self.post_next_question(run, chat, now) is not None

    async def post_next_question(self, run: RunRow, chat: Chat, now: datetime) -> str | None:
        """Post the next question now (on time, or early for /nextq); its id, or None."""
        question = chat.questions[run.next_question]
        changes = {
            "next_question": run.next_question + 1,
            "current_question": question.id,
            "current_question_at": now,
        }
        claim = PostClaim(f"question:{question.id}", "question", now, question_id=question.id)
        done = await self.transition(run, changes, claim)
        return question.id if done is not None else None

    async def skip_next_question(self, run: RunRow, chat: Chat, now: datetime) -> str | None:
        question = chat.questions[run.next_question]
        claim = PostClaim(
            f"question:{question.id}", "question", now, question_id=question.id, skipped=True
        )
        done = await self.transition(run, {"next_question": run.next_question + 1}, claim)
        return question.id if done is not None else None

    async def end(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        changes = {"state": RunState.ENDED, "ended_at": now, "paused_at": None}
        claim = PostClaim("outro", "outro", now) if chat.outro else None
        return await self.transition(run, changes, claim) is not None

    async def summarise(
        self, run: RunRow, chat: Chat, now: datetime, *, interested: int | None = None
    ) -> bool:
        post = chat.summary.enabled and chat.summary.post_to != "none"
        claim = PostClaim("recap", "recap", now) if post else None
        changes: dict[str, object] = {"state": RunState.SUMMARISED}
        if (reach := await self._reach(chat)) is not None:
            changes["reach"] = reach
        if interested is not None:
            changes["interested"] = interested
        return await self.transition(run, changes, claim) is not None

    async def _reach(self, chat: Chat) -> int | None:
        """The channel's members as the chat ends; a recap without the figure beats no recap."""
        try:
            return await self.ctx.port(chat).member_count(chat.channel)
        except Exception as exc:  # a PortError, or an adapter that does not wrap its errors
            log.warning("could not count the members of %s: %s", chat.channel, exc)
            return None

    # host actions that are not simple clock steps

    async def start_now(self, chat: Chat, now: datetime) -> RunRow:
        """Start a chat by hand: its next scheduled run if one is waiting, else a new run."""
        store = self.ctx.store
        waiting = [r for r in await store.runs_for_chat(chat.id) if r.state in WAITING]
        run = (
            waiting[0]
            if waiting
            else await store.ensure_run(chat, now, now + chat.schedule.duration)
        )
        # The caller (Commands) holds this chat's run lock; the store's CAS covers the rest.
        if not await self.start(run, chat_of(run), now):
            raise changed_meanwhile()
        return run

    async def pause(self, run: RunRow, now: datetime) -> bool:
        return await self.transition(run, {"state": RunState.PAUSED, "paused_at": now}) is not None

    async def resume(self, run: RunRow, now: datetime) -> timedelta | None:
        paused = now - (run.paused_at or now)
        changes = {
            "state": RunState.RUNNING,
            "paused_at": None,
            "shift_seconds": run.shift_seconds + paused.total_seconds(),
            "end_at": run.end_at + paused,
        }
        return paused if await self.transition(run, changes) is not None else None

    async def extend(self, run: RunRow, by: timedelta) -> datetime | None:
        end_at = run.end_at + by
        return end_at if await self.transition(run, {"end_at": end_at}) is not None else None

    async def end_now(self, run: RunRow, now: datetime) -> bool:
        return await self.end(run, chat_of(run), now)


def run_length(chat: Chat) -> timedelta:
    """How long a run lasts: its planned duration; an async chat's until its last question
    closes (the recap comes then)."""
    return chat.last_close if chat.is_async else chat.schedule.duration


def question_due(run: RunRow, chat: Chat, index: int) -> datetime:
    """When question ``index`` is due: its planned offset, moved by every pause."""
    assert run.started_at is not None
    return run.started_at + chat.questions[index].at + timedelta(seconds=run.shift_seconds)


def _newer_announcement(run: RunRow, due: list[timedelta]) -> bool:
    return run.announced_offset is None or min(due).total_seconds() < run.announced_offset
