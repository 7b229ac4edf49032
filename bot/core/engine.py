"""The chat-run state machine: scheduled -> announced -> running (Qn) -> ended -> summarised.

The engine is woken (by the scheduler, a command, or a rehearsal's simulated clock) and then
reconciles each open run with the clock: it stores each transition together with the claim of
the post it causes, then delivers the post. A restarted engine finds the same stored state and
continues; a claimed-but-undelivered post is delivered on the next tick.

Several processes may run engines on one database. Every transition is a compare-and-set, so
one process wins each step; the winner holds the delivery lease of the post it claimed and
renews it while the platform call is in flight. If it dies, the lease runs out (CLAIM_LEASE)
and whichever engine ticks next takes the post over: a chat continues at the right question
within about CLAIM_LEASE of its process dying. Nudges are claimed and leased the same way.

This module is the loop (which runs are due, one step each, when to wake next). Its parts:
engine_steps.py (the transitions), engine_posts.py (what each post says, and the recap kept up
to date), engine_nudges.py (who is nudged), delivery.py (the delivery of a post or a nudge,
written once for both), engine_context.py (what the parts share) and wording.py (every
sentence they say). The names other modules import from here stay importable from here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.agenda import Agenda
from bot.core.clock import Clock
from bot.core.delivery import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    NUDGE_ATTEMPTS,
    RECORD_RETRY,
    RETRY_BASE,
    Courier,
)
from bot.core.engine_async import Digests, QuestionCloser
from bot.core.engine_context import (
    EngineContext,
    EngineError,
    Illustrate,
    PortFor,
    chat_of,
    default_worker_id,
    did_not_settle,
)
from bot.core.engine_events import RunEvents, event_lead
from bot.core.engine_nudges import Nudger
from bot.core.engine_posts import RunPosts, announcement_text, intro_text
from bot.core.engine_reminders import Reminders
from bot.core.engine_steps import RunSteps, question_due
from bot.core.plan import Chat, Plan
from bot.core.recap import Recap
from bot.core.recurrence import iter_starts
from bot.core.run_states import OPEN, WAITING, RunState
from bot.core.store import RunRow, Store, is_transient

__all__ = [
    "CLAIM_LEASE",
    "MAX_ATTEMPTS",
    "NUDGE_ATTEMPTS",
    "RECORD_RETRY",
    "RETRY_BASE",
    "RUN_LEAD",
    "Engine",
    "EngineError",
    "Illustrate",
    "PortFor",
    "announcement_text",
    "default_worker_id",
    "intro_text",
]

log = logging.getLogger("chathost.engine")

# How far ahead a run is created: before its first announcement and before the pre-chat
# window in which early messages are recorded.
RUN_LEAD = timedelta(minutes=30)


class Engine:
    """The loop: which runs are due, one step each, and when to wake next. The steps
    (bot/core/engine_steps.py), the posts (engine_posts.py) and the nudges (engine_nudges.py)
    are its parts; it answers the commands' calls for them."""

    def __init__(
        self,
        plan: Plan,
        store: Store,
        port_for: PortFor,
        clock: Clock,
        *,
        on_change: Callable[[], None] | None = None,
        worker_id: str | None = None,
        claim_lease: timedelta = CLAIM_LEASE,
        public_url: str | None = None,
        illustrate: Illustrate | None = None,
    ) -> None:
        self.plan = plan
        self.on_change = on_change or (lambda: None)
        self.ctx = EngineContext(
            store,
            port_for,
            clock,
            worker_id=worker_id or default_worker_id(),
            claim_lease=claim_lease,
            public_url=public_url,
            illustrate=illustrate,
        )
        courier = Courier(clock, lease=claim_lease, on_retry=self._note_retry)
        # Which runs a tick looks at (bot/core/agenda.py), what was ensured, and what one
        # tick has read already (who spoke, who opted out): a tick stays short at scale.
        self.agenda = Agenda()
        self.posts = RunPosts(self.ctx, courier)
        self.nudger = Nudger(self.ctx, courier)
        self.steps = RunSteps(self.ctx, self.agenda, self.posts)
        self.closer = QuestionCloser(self.ctx, self.posts)
        self.reminders = Reminders(self.ctx, courier, self.nudger.quiet_users)
        self.nudger.retry_reminder = self.reminders.retry  # stored, and retried, as nudges
        self.digests = Digests(self.ctx, self.posts)
        self.events = RunEvents(self.ctx, courier, self._plan_chat)
        self._ensured: set[tuple[str, datetime]] = set()
        self._next_creation: dict[str, datetime | None] = {}  # chat id -> its next run's
        self._pending_due: datetime | None = None  # a claimed post or nudge may be retried

    # what the engine's parts share, as the engine's callers know it

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def worker_id(self) -> str:
        return self.ctx.worker_id

    @property
    def claim_lease(self) -> timedelta:
        return self.ctx.claim_lease

    @property
    def public_url(self) -> str | None:
        return self.ctx.public_url

    @property
    def port_for(self) -> PortFor:
        return self.ctx.port_for

    @port_for.setter
    def port_for(self, port_for: PortFor) -> None:
        self.ctx.port_for = port_for

    @property
    def illustrate(self) -> Illustrate | None:
        return self.ctx.illustrate

    @illustrate.setter
    def illustrate(self, illustrate: Illustrate | None) -> None:
        self.ctx.illustrate = illustrate

    @property
    def stopping(self) -> bool:
        return self.ctx.stopping

    def request_stop(self) -> None:
        """Finish the delivery in flight but start no new step (SIGTERM): whatever is left
        stays claimable in the database for the next process."""
        self.ctx.stopping = True

    # lifecycle

    async def start(self) -> None:
        """Record the plan's chats; the first tick rebuilds everything else from the store."""
        for chat in self.plan.chats:
            await self.store.upsert_chat(chat)

    def chat_of(self, run: RunRow) -> Chat:
        return chat_of(run)

    async def tick(self) -> datetime | None:
        """Do whatever is due now; return when the engine next needs waking.

        A full pass (every few seconds, see bot/core/agenda.py) reads every open run's
        version, which is how changes by other processes are noticed; only the runs whose wake
        time has come, that changed or that this process changed are read in full and stepped.
        """
        self.nudger.begin_tick()
        try:
            return await self._tick(self.clock.now())
        except BaseException:
            self.agenda.force_full_pass()
            raise
        finally:
            self.nudger.end_tick()

    async def _tick(self, now: datetime) -> datetime | None:
        full = self.agenda.full_pass_due(now)
        retried = full or (self._pending_due is not None and now >= self._pending_due)
        if retried:
            await self._retry_pending(now)
        open_ids: list[int] = []
        if full:
            await self._ensure_runs(now)
            # Every open run's version; only those due, new or changed are read in full.
            versions = await self.store.open_run_versions()
            open_ids = [run_id for run_id, _ in versions]
            wanted = [i for i, v in versions if self.agenda.needs_look_at(i, v, now)]
        else:
            wanted = self.agenda.due(now)
        runs = await self.store.runs_by_id(wanted)
        for run_id in set(wanted) - {r.id for r in runs}:
            self.agenda.forget(run_id)  # closed meanwhile
        for run in runs:
            if self.stopping:
                return None
            if not self.agenda.needs_look(run, now):
                continue
            try:
                settled = await self.advance(run.id or 0, run)
                if settled is None or settled.state not in OPEN:
                    self.agenda.forget(run.id or 0)
                    for part in (self.closer, self.reminders, self.digests):
                        part.forget(run.id or 0)
                else:
                    wakes = await self._run_wakes(settled, self.clock.now())
                    self.agenda.record(settled, min(wakes, default=None))
            except Exception as exc:
                if is_transient(exc):
                    raise  # the database is away: the whole tick is retried soon
                # One broken run (a bug, a plan the code cannot handle) must not stop the
                # other chats; it is tried again on every full pass.
                log.exception("run %s could not advance; the other chats go on", run.id)
                self.agenda.broken(run.id or 0)
        later = self.clock.now()
        if full:
            self.agenda.keep_only(open_ids)
            self.agenda.finish_full_pass(now, self._creation_wakes())
        if retried:
            # Read on full passes (another process's claims: its lease runs out) and after a
            # retry; in between this process notes its own failures (_note_retry).
            self._pending_due = min(await self._pending_wakes(later), default=None)
        return min((t for t in (self.agenda.next_wake(), self._pending_due) if t), default=None)

    def _note_retry(self, at: datetime | None) -> None:
        """A delivery of ours failed and may be retried at ``at``: wake for it."""
        if at is not None:
            self._pending_due = at if self._pending_due is None else min(self._pending_due, at)

    async def _pending_wakes(self, now: datetime) -> list[datetime]:
        """When each claimed but undelivered post or nudge may be retried."""
        return [*await self.posts.pending_wakes(now), *await self.nudger.pending_wakes(now)]

    async def _retry_pending(self, now: datetime) -> None:
        """Deliver claimed posts and nudges whose claimer failed or died (lease run out)."""
        await self.posts.retry_pending(now)
        await self.nudger.retry_pending(now)
        await self.events.retry_pending(await self.store.pending_posts(), now)

    def _creation_wakes(self) -> list[datetime]:
        """When each chat's next run is due to be created (worked out by _ensure_runs)."""
        return [t for t in self._next_creation.values() if t is not None]

    async def _ensure_runs(self, now: datetime) -> None:
        for chat in self.plan.chats:
            if chat.id in self._next_creation:
                created_at = self._next_creation[chat.id]
                if created_at is None or created_at > now:
                    continue  # nothing new before then (the plan of an engine is fixed)
            try:
                await self._ensure_chat_runs(chat, now)
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.exception("could not schedule the runs of %s; the other chats go on", chat.id)

    async def _ensure_chat_runs(self, chat: Chat, now: datetime) -> None:
        lead = max(chat.announce, default=timedelta(0)) + RUN_LEAD
        if chat.events:
            lead = event_lead(chat) + RUN_LEAD  # the event is made with the run
        for start in iter_starts(chat, now - chat.schedule.duration):
            if start - lead > now:
                self._next_creation[chat.id] = start - lead
                return
            if (chat.id, start) in self._ensured:
                continue  # created (and its plan brought up to date) by this engine already
            run = await self.store.ensure_run(chat, start, start + chat.schedule.duration)
            if run.state == RunState.SCHEDULED and run.plan_json != chat.model_dump_json():
                await self.store.update_run(run, plan_json=chat.model_dump_json())
            self._ensured.add((chat.id, start))
        self._next_creation[chat.id] = None  # a one-off chat: no more runs

    def _plan_chat(self, chat_id: str) -> Chat | None:
        return next((c for c in self.plan.chats if c.id == chat_id), None)

    def run_lock(self, run_id: int) -> asyncio.Lock:
        """Serialises the work on one run within this process (the store's CAS covers others)."""
        return self.ctx.run_lock(run_id)

    async def advance(self, run_id: int, seen: RunRow | None = None) -> RunRow | None:
        """Bring one run up to date with the clock. Safe to call at any time, repeatedly.

        ``seen``: the run as the caller just read it, used unless this process has changed
        the run since. The run is read again only when a compare-and-set loses (another
        process or a command moved it): every step is a compare-and-set, so a stale copy can
        cost a retry but never a wrong transition.
        """
        async with self.run_lock(run_id):
            self.steps.forget_outcome(run_id)
            run = seen if seen is not None and self.steps.is_current(seen) else None
            for _ in range(100):  # each pass makes one transition; the bound guards a bug
                if run is None:
                    run = await self.store.get_run(run_id)
                if run is None or self.stopping:
                    return run
                changed = await self._step(run, self.clock.now())
                raced, after = self.steps.outcome(run_id)
                if raced:
                    run = None
                elif not changed:
                    return run
                else:
                    run = after
            raise did_not_settle(run_id)

    async def _step(self, run: RunRow, now: datetime) -> bool:
        """Make the one transition that is due, if any; True when something changed."""
        chat = chat_of(run)
        steps = self.steps
        # Read before the event is completed: a platform may forget who was interested then.
        ended = run.state == RunState.ENDED
        interested = await self.events.interested(run, chat) if ended else None
        await self.events.sync(run, chat, now)
        if run.state in WAITING:
            if now >= run.scheduled_start:
                if now >= run.end_at:
                    return await steps.miss(run)
                return await steps.start(run, chat, run.scheduled_start)
            return await steps.announce(run, chat, now)
        if run.state == RunState.RUNNING:
            if chat.is_async:  # a question that closed by now gets its note before the end
                await self.closer.close_due(run, chat, now)
                await self.digests.digest_due(run, chat, now)
                await self.reminders.remind(run, chat, now)
            if now >= run.end_at:
                return await steps.end(run, chat, now)
            if await steps.post_due_question(run, chat, now):
                return True
            await self.nudger.nudge(run, chat, now)
            return False
        if run.state == RunState.ENDED:
            return await steps.summarise(run, chat, now, interested=interested)
        return False

    async def _run_wakes(self, run: RunRow, now: datetime) -> list[datetime]:
        chat = chat_of(run)
        if run.state in WAITING:
            upcoming = [run.scheduled_start - o for o in chat.announce]
            return [run.scheduled_start, *(t for t in upcoming if t > now)]
        if run.state == RunState.ENDED:
            return [now]
        if run.state != RunState.RUNNING:
            return []
        times = [run.end_at]
        if run.next_question < len(chat.questions):
            times.append(question_due(run, chat, run.next_question))
        if (nudge := await self.nudger.next_time(run, chat)) is not None:
            times.append(nudge)
        if chat.is_async:
            later = (
                self.closer.next_close(run, chat, now),
                self.reminders.next_time(run),
                self.digests.next_time(run, chat, now),
            )
            times.extend(t for t in later if t is not None)
        return times

    # what the commands ask of the engine

    def question_due(self, run: RunRow, chat: Chat, index: int) -> datetime:
        return question_due(run, chat, index)

    async def post_next_question(self, run: RunRow, chat: Chat, now: datetime) -> str | None:
        """Post the next question now (on time, or early for /nextq); its id, or None."""
        return await self.steps.post_next_question(run, chat, now)

    async def skip_next_question(self, run: RunRow, chat: Chat, now: datetime) -> str | None:
        return await self.steps.skip_next_question(run, chat, now)

    async def start_now(self, chat: Chat, now: datetime) -> RunRow:
        """Start a chat by hand: its next scheduled run if one is waiting, else a new run."""
        return await self.steps.start_now(chat, now)

    async def pause(self, run: RunRow, now: datetime) -> bool:
        return await self.steps.pause(run, now)

    async def resume(self, run: RunRow, now: datetime) -> timedelta | None:
        return await self.steps.resume(run, now)

    async def extend(self, run: RunRow, by: timedelta) -> datetime | None:
        return await self.steps.extend(run, by)

    async def end_now(self, run: RunRow, now: datetime) -> bool:
        return await self.steps.end_now(run, now)

    async def recap(self, run_id: int) -> Recap:
        return await self.posts.recap(run_id)

    async def refresh_recap(self, run_id: int) -> bool:
        """Re-render a posted recap after the run changed (late answers, picks, /forgetme)."""
        return await self.posts.refresh_recap(run_id)
