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
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.core.agenda import Agenda
from bot.core.clock import Clock
from bot.core.durations import format_duration
from bot.core.events import User
from bot.core.nudges import Activity, due_nudges, next_nudge_time
from bot.core.plan import Chat, Plan, chat_from_json
from bot.core.ports import Attachment, Outgoing, Port, PortError, PostedRef
from bot.core.recap import Recap, build_recap, recap_text
from bot.core.recurrence import iter_starts
from bot.core.run_states import OPEN, WAITING, RunState
from bot.core.snapshot import load_run_view
from bot.core.store import (
    NudgeRow,
    PostClaim,
    PostRow,
    RetryPolicy,
    RunRow,
    Store,
    is_transient,
    retry_transient,
)

log = logging.getLogger("chathost.engine")

# How far ahead a run is created: before its first announcement and before the pre-chat
# window in which early messages are recorded.
RUN_LEAD = timedelta(minutes=30)
# A post that fails is retried with growing pauses, then reported to the hosts.
MAX_ATTEMPTS = 5
# How long a claim is its claimer's alone; the claimer renews it while delivering, so only a
# dead (or cut-off) process loses it, and another process takes the post over after this long.
CLAIM_LEASE = timedelta(seconds=15)
RETRY_BASE = timedelta(seconds=5)
# A nudge is worth a few tries, not a report to the hosts.
NUDGE_ATTEMPTS = 3
# Recording a delivery must outlast a database restart: a post that landed but is not recorded
# would be posted again by whoever takes over its lease.
RECORD_RETRY = RetryPolicy(attempts=14, first_delay=0.1, max_delay=5.0)
# Platform clocks and ours differ a little: an earlier attempt of a post is looked for from a
# bit before its claim.
LANDED_SLACK = timedelta(minutes=1)


# Pictures to attach to a recap: bot/export draws the word cloud (the core draws nothing).
Illustrate = Callable[[Recap], Sequence[Attachment]]


def default_worker_id() -> str:
    """Names this process in delivery leases (and logs): host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


PortFor = Callable[[str], Port]


class EngineError(Exception):
    """A request the engine cannot carry out; the message is meant for the user."""


class Engine:
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
        self.store = store
        self.port_for = port_for
        self.clock = clock
        self.on_change = on_change or (lambda: None)
        # The archive's address: recaps then link to the run's page.
        self.public_url = public_url
        # Pictures for a recap (the word cloud), drawn outside the core (bot/export).
        self.illustrate = illustrate
        self.worker_id = worker_id or default_worker_id()
        self.claim_lease = claim_lease
        self.stopping = False
        self._locks: dict[int, asyncio.Lock] = {}
        # Which runs a tick looks at (bot/core/agenda.py), what was ensured, and what one
        # tick has read already (who spoke, who opted out): a tick stays short at scale.
        self.agenda = Agenda()
        self._ensured: set[tuple[str, datetime]] = set()
        self._next_creation: dict[str, datetime | None] = {}  # chat id -> its next run's
        self._pending_due: datetime | None = None  # a claimed post or nudge may be retried
        # What advance() needs to trust a run it did not read itself: the newest version this
        # process wrote per run, the run as its last transition left it, and the runs whose
        # compare-and-set lost (their copy was stale: read again and decide again).
        self._written: dict[int, int] = {}
        self._after: dict[int, RunRow] = {}
        self._raced: set[int] = set()
        self._tick_people: dict[int, list[Activity]] | None = None  # None: not in a tick
        self._tick_quiet: dict[str, set[str]] | None = None

    def request_stop(self) -> None:
        """Finish the delivery in flight but start no new step (SIGTERM): whatever is left
        stays claimable in the database for the next process."""
        self.stopping = True

    # lifecycle

    async def start(self) -> None:
        """Record the plan's chats; the first tick rebuilds everything else from the store."""
        for chat in self.plan.chats:
            await self.store.upsert_chat(chat)

    def chat_of(self, run: RunRow) -> Chat:
        """The plan as it stood when the run was created (edits to chats.yaml apply to later
        runs, so question numbers never shift under a running chat), posting where the run's
        first post landed: by the channel's id, which a rename mid-chat leaves alone."""
        chat = chat_from_json(run.plan_json)
        if run.channel_id and run.channel_id != chat.channel:
            return chat.model_copy(update={"channel": run.channel_id})
        return chat

    async def tick(self) -> datetime | None:
        """Do whatever is due now; return when the engine next needs waking.

        A full pass (every few seconds, see bot/core/agenda.py) reads every open run, which
        is how changes by other processes are noticed; in between, only the runs whose wake
        time has come or that this process changed are read and stepped.
        """
        self._tick_people, self._tick_quiet = {}, {}
        try:
            return await self._tick(self.clock.now())
        except BaseException:
            self.agenda.force_full_pass()
            raise
        finally:
            self._tick_people = self._tick_quiet = None

    async def _tick(self, now: datetime) -> datetime | None:
        full = self.agenda.full_pass_due(now)
        retried = full or (self._pending_due is not None and now >= self._pending_due)
        if retried:
            await self._retry_pending(now)
        if full:
            await self._ensure_runs(now)
            runs = await self.store.open_runs()
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
            self.agenda.keep_only(r.id or 0 for r in runs)
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
        times = [max(now, _retry_at(post)) for post in await self.store.pending_posts()]
        for nudge in await self.store.pending_nudges(NUDGE_ATTEMPTS):
            times.append(max(now, nudge.lease_until or now))
        return times

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

    def run_lock(self, run_id: int) -> asyncio.Lock:
        """Serialises the work on one run within this process (the store's CAS covers others)."""
        return self._locks.setdefault(run_id, asyncio.Lock())

    async def advance(self, run_id: int, seen: RunRow | None = None) -> RunRow | None:
        """Bring one run up to date with the clock. Safe to call at any time, repeatedly.

        ``seen``: the run as the caller just read it, used unless this process has changed
        the run since. The run is read again only when a compare-and-set loses (another
        process or a command moved it): every step is a compare-and-set, so a stale copy can
        cost a retry but never a wrong transition.
        """
        async with self.run_lock(run_id):
            self._after.pop(run_id, None)  # left by a command's transition: not this step's
            self._raced.discard(run_id)
            run = seen if seen is not None and self._current(seen) else None
            for _ in range(100):  # each pass makes one transition; the bound guards a bug
                if run is None:
                    run = await self.store.get_run(run_id)
                if run is None or self.stopping:
                    return run
                changed = await self._step(run, self.clock.now())
                after = self._after.pop(run_id, None)
                if run_id in self._raced:
                    self._raced.discard(run_id)
                    run = None
                elif not changed:
                    return run
                else:
                    run = after
            raise EngineError(f"run {run_id} did not settle")

    def _current(self, run: RunRow) -> bool:
        return run.version >= self._written.get(run.id or 0, -1)

    async def _step(self, run: RunRow, now: datetime) -> bool:
        """Make the one transition that is due, if any; True when something changed."""
        chat = self.chat_of(run)
        if run.state in WAITING:
            if now >= run.scheduled_start:
                if now >= run.end_at:
                    return await self._transition(run, {"state": RunState.MISSED}) is not None
                return await self._start(run, chat, run.scheduled_start)
            return await self._announce(run, chat, now)
        if run.state == RunState.RUNNING:
            if now >= run.end_at:
                return await self._end(run, chat, now)
            if await self._post_due_question(run, chat, now):
                return True
            await self._nudge(run, chat, now)
            return False
        if run.state == RunState.ENDED:
            return await self._summarise(run, chat, now)
        return False

    # transitions

    async def _transition(
        self, run: RunRow, changes: dict[str, object], claim: PostClaim | None = None
    ) -> PostRow | bool | None:
        if claim is not None and not claim.skipped:
            # The claimer owns the delivery from the moment of the claim (not from claim.at,
            # which may lie in the past when a late engine catches up).
            lease_until = self.clock.now() + self.claim_lease
            claim = dataclasses.replace(claim, owner=self.worker_id, lease_until=lease_until)
        new_run, post = await self.store.transition(run, changes, claim)
        if new_run is None:
            self._raced.add(run.id or 0)  # somebody else moved the run first: re-read
            return None
        self.agenda.touch(run.id or 0)
        self._written[run.id or 0] = new_run.version
        self._after[run.id or 0] = new_run
        if post is not None:
            if not post.skipped:
                await self._deliver(new_run, post)
            return post
        return True

    async def _announce(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        due = [o for o in chat.announce if run.scheduled_start - o <= now]
        if not due or (run.state == RunState.ANNOUNCED and not _newer_announcement(run, due)):
            return False
        latest = min(due)  # the closest to the start; older ones are stale now
        claim = PostClaim(f"announce:{int(latest.total_seconds())}", "announce", now)
        changes = {"state": RunState.ANNOUNCED, "announced_offset": int(latest.total_seconds())}
        return await self._transition(run, changes, claim) is not None

    async def _start(self, run: RunRow, chat: Chat, started_at: datetime) -> bool:
        changes = {
            "state": RunState.RUNNING,
            "started_at": started_at,
            "end_at": started_at + chat.schedule.duration,
        }
        return (
            await self._transition(run, changes, PostClaim("intro", "intro", started_at))
            is not None
        )

    def question_due(self, run: RunRow, chat: Chat, index: int) -> datetime:
        assert run.started_at is not None
        return run.started_at + chat.questions[index].at + timedelta(seconds=run.shift_seconds)

    async def _post_due_question(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        if run.next_question >= len(chat.questions):
            return False
        if self.question_due(run, chat, run.next_question) > now:
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
        done = await self._transition(run, changes, claim)
        return question.id if done is not None else None

    async def skip_next_question(self, run: RunRow, chat: Chat, now: datetime) -> str | None:
        question = chat.questions[run.next_question]
        claim = PostClaim(
            f"question:{question.id}", "question", now, question_id=question.id, skipped=True
        )
        done = await self._transition(run, {"next_question": run.next_question + 1}, claim)
        return question.id if done is not None else None

    async def _end(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        changes = {"state": RunState.ENDED, "ended_at": now, "paused_at": None}
        claim = PostClaim("outro", "outro", now) if chat.outro else None
        return await self._transition(run, changes, claim) is not None

    async def _summarise(self, run: RunRow, chat: Chat, now: datetime) -> bool:
        post = chat.summary.enabled and chat.summary.post_to != "none"
        claim = PostClaim("recap", "recap", now) if post else None
        changes: dict[str, object] = {"state": RunState.SUMMARISED}
        if (reach := await self._reach(chat)) is not None:
            changes["reach"] = reach
        return await self._transition(run, changes, claim) is not None

    async def _reach(self, chat: Chat) -> int | None:
        """The channel's members as the chat ends; a recap without the figure beats no recap."""
        try:
            return await self.port_for(chat.platform).member_count(chat.channel)
        except Exception as exc:  # a PortError, or an adapter that does not wrap its errors
            log.warning("could not count the members of %s: %s", chat.channel, exc)
            return None

    # host actions that are not simple clock steps

    async def start_now(self, chat: Chat, now: datetime) -> RunRow:
        """Start a chat by hand: its next scheduled run if one is waiting, else a new run."""
        waiting = [
            r
            for r in await self.store.runs_for_chat(chat.id)
            if r.state in WAITING
        ]
        run = (
            waiting[0]
            if waiting
            else await self.store.ensure_run(chat, now, now + chat.schedule.duration)
        )
        # The caller (Commands) holds this chat's run lock; the store's CAS covers the rest.
        if not await self._start(run, self.chat_of(run), now):
            raise EngineError("the chat was changed at the same moment; try again")
        return run

    async def pause(self, run: RunRow, now: datetime) -> bool:
        return await self._transition(run, {"state": RunState.PAUSED, "paused_at": now}) is not None

    async def resume(self, run: RunRow, now: datetime) -> timedelta | None:
        paused = now - (run.paused_at or now)
        changes = {
            "state": RunState.RUNNING,
            "paused_at": None,
            "shift_seconds": run.shift_seconds + paused.total_seconds(),
            "end_at": run.end_at + paused,
        }
        return paused if await self._transition(run, changes) is not None else None

    async def extend(self, run: RunRow, by: timedelta) -> datetime | None:
        end_at = run.end_at + by
        return end_at if await self._transition(run, {"end_at": end_at}) is not None else None

    async def end_now(self, run: RunRow, now: datetime) -> bool:
        return await self._end(run, self.chat_of(run), now)

    # delivery

    async def _retry_pending(self, now: datetime) -> None:
        """Deliver claimed posts and nudges whose claimer failed or died (lease run out)."""
        for pending in await self.store.pending_posts():
            if now < _retry_at(pending) or self.stopping:
                continue
            async with self.run_lock(pending.run_id):
                # Taking the lease is the arbiter: of all processes that find this post due,
                # exactly one gets it; a delivery in flight holds it already.
                until = self.clock.now() + self.claim_lease
                post = await self.store.lease_post(pending.id or 0, self.worker_id, now, until)
                run = await self.store.get_run(pending.run_id)
                if post is not None and run is not None:
                    log.info("delivering %s of run %s (retry or take-over)", post.key, run.id)
                    await self._deliver(run, post, recover=True)
        for nudge in await self.store.pending_nudges(NUDGE_ATTEMPTS):
            if (nudge.lease_until is not None and now < nudge.lease_until) or self.stopping:
                continue
            await self._retry_nudge(nudge, now)

    async def _retry_nudge(self, nudge: NudgeRow, now: datetime) -> None:
        run = await self.store.get_run(nudge.run_id)
        moved_on = run is not None and run.current_question != nudge.question_id
        if run is None or run.state != RunState.RUNNING or moved_on:
            await self.store.mark_nudge_failed(nudge.id or 0, None)  # its moment has passed
            return
        taken = await self.store.lease_nudge(nudge.id or 0, now, now + self.claim_lease)
        if taken is None:
            return
        chat = self.chat_of(run)
        names = {p.user_id: p.user_name for p in await self.store.participants(run.id or 0)}
        question = chat.question(nudge.question_id or "")
        if question is not None:
            user = User(id=nudge.user_id, name=names.get(nudge.user_id, nudge.user_id))
            await self._send_nudge(chat, user, question.id, question.text, taken, recover=True)

    async def refresh_recap(self, run_id: int) -> bool:
        """Re-render a posted recap after late answers, edits, reactions, picks or a
        /forgetme changed the run. The pictures are drawn again too: the word cloud is made
        of the answers, so the port replaces the posted one when it differs (or removes it
        when no words are left)."""
        post = next((p for p in await self.store.posts(run_id) if p.kind == "recap"), None)
        run = await self.store.get_run(run_id)
        if post is None or run is None or post.message_id is None or post.channel_id is None:
            return False
        chat = self.chat_of(run)
        recap = await self.recap(run_id)
        key = f"{chat.id}/{run_id}/{post.key}"  # as posted: the port may look its parts up
        files = await self._illustrations(recap)
        base = {"chat_title": chat.title, "tag": chat.tag, "key": key}
        message = Outgoing("recap", recap_text(recap), recap=recap, attachments=files, **base)
        ref = PostedRef(post.channel_id, post.message_id, post.thread_id)
        try:
            await self.port_for(chat.platform).update(ref, message)
        except PortError as exc:
            log.warning("could not update the recap of run %s: %s", run_id, exc)
            return False
        return True

    async def _deliver(self, run: RunRow, post: PostRow, *, recover: bool = False) -> None:
        """Deliver a post whose lease we hold, keeping the lease alive until it is recorded.

        ``recover``: an earlier attempt may have landed without being recorded (its process
        died, or the platform's answer was lost), so the platform is asked for it first."""
        chat = self.chat_of(run)
        port = self.port_for(chat.platform)
        keeper = asyncio.create_task(
            self._keep_lease(
                f"{post.key} of run {post.run_id}",
                lambda until: self.store.renew_post_lease(post.id or 0, self.worker_id, until),
            )
        )
        try:
            try:
                message, thread_id, start_thread = await self._render(run, chat, post)
                channel = _recap_channel(chat) if post.kind == "recap" else chat.channel
                found = None
                if recover:
                    found = await _landed(port, channel, message, post, thread_id, start_thread)
                ref = found or await port.post(
                    channel, message, thread_id=thread_id, start_thread=start_thread
                )
            except Exception as exc:  # a PortError, or an adapter bug / timeout it did not wrap
                error = (
                    exc if isinstance(exc, PortError) else PortError(f"{type(exc).__name__}: {exc}")
                )
                await self._post_failed(run, chat, post, error, unexpected=error is not exc)
                return
            await self._record_posted(run, chat, post, ref)
        finally:
            keeper.cancel()

    async def _record_posted(self, run: RunRow, chat: Chat, post: PostRow, ref: PostedRef) -> None:
        """Retried through a database blip (the lease is still renewed meanwhile): a post that
        landed but is not recorded would be posted again by whoever takes over its lease."""
        per_chat = post.kind == "intro" and chat.threads == "per-chat"
        # The announcement and the intro go to the channel itself (never into a thread).
        pin = post.kind in ("announce", "intro") and run.channel_id is None
        try:
            await retry_transient(
                lambda: self.store.mark_posted(
                    post.id or 0, ref, self.clock.now(), run_thread=per_chat, run_channel=pin
                ),
                what=f"recording {post.key} of run {run.id} as posted",
                policy=RECORD_RETRY,
            )
        except Exception:
            log.error(
                "post %s of run %s landed (%s) but could not be recorded; another process "
                "may post it again",
                post.key,
                run.id,
                ref.message_id,
            )
            raise

    async def _post_failed(
        self, run: RunRow, chat: Chat, post: PostRow, exc: PortError, *, unexpected: bool
    ) -> None:
        give_up = exc.permanent or post.attempts + 1 >= MAX_ATTEMPTS
        retry_at = self.clock.now() + RETRY_BASE * (2**post.attempts)
        await retry_transient(
            lambda: self.store.mark_post_failed(
                post, str(exc), give_up=give_up, retry_at=None if give_up else retry_at
            ),
            what=f"recording the failure of {post.key}",
        )
        log.warning(
            "post %s of run %s failed (%s)%s",
            post.key,
            run.id,
            exc,
            "; giving up" if give_up else f"; will retry at {retry_at:%H:%M:%S}",
            exc_info=unexpected,
        )
        if give_up:
            await self._report_failure(run, chat, post, str(exc))
        else:
            self._note_retry(retry_at)

    async def _keep_lease(self, what: str, renew: Callable[[datetime], Awaitable[bool]]) -> None:
        """Renew a delivery lease while a (possibly slow, rate-limited) delivery runs."""
        every = self.claim_lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                if not await renew(self.clock.now() + self.claim_lease):
                    log.warning("lost the delivery lease of %s", what)
                    return
            except Exception as exc:
                log.warning("could not renew the lease of %s: %s", what, exc)

    async def _report_failure(self, run: RunRow, chat: Chat, post: PostRow, error: str) -> None:
        """A post that will never land is told to the hosts rather than dropped in silence."""
        text = f"chathost could not post {post.key} for {chat.title}: {error}"
        port = self.port_for(chat.platform)
        for host in chat.host_people:
            try:
                await port.send_dm(User(id=host, name=host), Outgoing("notice", text, chat.title))
            except PortError as exc:
                log.error("could not tell host %s either: %s", host, exc)

    async def _render(
        self, run: RunRow, chat: Chat, post: PostRow
    ) -> tuple[Outgoing, str | None, str | None]:
        """The message for a claimed step, rebuilt from the plan so a retry says the same,
        tagged with the step's key so a retry can find or dedupe an earlier attempt."""
        message, thread_id, start_thread = await self._render_step(run, chat, post)
        key = f"{chat.id}/{run.id}/{post.key}"
        return dataclasses.replace(message, key=key), thread_id, start_thread

    async def _render_step(
        self, run: RunRow, chat: Chat, post: PostRow
    ) -> tuple[Outgoing, str | None, str | None]:
        per_chat_thread = None
        if chat.threads == "per-chat":
            # The intro may have opened the thread after ``run`` was read (another process).
            fresh = run if run.thread_id else await self.store.get_run(run.id or 0)
            per_chat_thread = fresh.thread_id if fresh else None
        base = {"chat_title": chat.title, "tag": chat.tag}
        if post.kind == "announce":
            return Outgoing("announce", announcement_text(chat, run), **base), None, None
        if post.kind == "intro":
            start = chat.title if chat.threads == "per-chat" else None
            return Outgoing("intro", intro_text(chat), **base), None, start
        if post.kind == "question":
            question = chat.question(post.question_id or "")
            assert question is not None
            text = f"{question.id}: {question.text} {chat.tag}".rstrip()
            start = (
                f"{question.id}: {question.text}"[:90] if chat.threads == "per-question" else None
            )
            message = Outgoing("question", text, question_id=question.id, **base)
            return message, per_chat_thread, start
        if post.kind == "outro":
            return Outgoing("outro", chat.outro, **base), per_chat_thread, None
        recap = await self.recap(run.id)
        thread = per_chat_thread if chat.summary.post_to == "thread" else None
        files = await self._illustrations(recap)
        message = Outgoing("recap", recap_text(recap), recap=recap, attachments=files, **base)
        return message, thread, None

    async def _illustrations(self, recap: Recap) -> tuple[Attachment, ...]:
        """Drawn in a thread (a word cloud is ~0.2 s of Pillow); a recap without its picture
        beats no recap."""
        if self.illustrate is None:
            return ()
        try:
            return tuple(await asyncio.to_thread(self.illustrate, recap))
        except Exception:
            log.exception("could not draw the pictures of the recap of %s", recap.title)
            return ()

    async def recap(self, run_id: int) -> Recap:
        return build_recap(await load_run_view(self.store, run_id), public_url=self.public_url)

    # nudges

    async def _nudge(self, run: RunRow, chat: Chat, now: datetime) -> None:
        if run.current_question is None or not _nudging(chat):
            return
        people = await self._activities(run)
        quiet = await self._quiet_users(chat.platform)
        question = chat.question(run.current_question)
        for person in due_nudges(
            people,
            now=now,
            settings=chat.nudges,
            last_question_at=run.current_question_at,
            opted_out=quiet,
        ):
            if self.stopping:
                return
            seq = person.nudges_sent + 1
            claimed = await self.store.claim_nudge(
                run.id,
                person.user_id,
                seq,
                run.current_question,
                chat.nudges.via,
                now,
                lease_until=now + self.claim_lease,
            )
            if self._tick_people is not None:
                self._tick_people.pop(run.id or 0, None)  # nudges sent changed
            nudge = await self.store.find_nudge(run.id, person.user_id, seq) if claimed else None
            if nudge is not None and question is not None:
                user = User(id=person.user_id, name=person.user_name)
                await self._send_nudge(chat, user, question.id, question.text, nudge)

    async def _quiet_users(self, platform: str) -> set[str]:
        """Who opted out of nudges; read once per tick (not once per run) during a tick."""
        memo = self._tick_quiet
        if memo is None:
            return await self.store.quiet_users(platform)
        if platform not in memo:
            memo[platform] = await self.store.quiet_users(platform)
        return memo[platform]

    async def _activities(self, run: RunRow) -> list[Activity]:
        """Who spoke and who was nudged; within a tick read once per run (nudging, then
        working out the run's next wake, would otherwise read it twice)."""
        memo = self._tick_people
        if memo is not None and (run.id or 0) in memo:
            return memo[run.id or 0]
        people = await self._read_activities(run)
        if memo is not None:
            memo[run.id or 0] = people
        return people

    async def _read_activities(self, run: RunRow) -> list[Activity]:
        return [
            Activity(
                user_id=p.user_id,
                user_name=p.user_name,
                last_spoke=p.last_at,
                nudges_sent=p.nudges,
                last_nudged=p.last_nudged,
                is_host=p.is_host,
            )
            for p in await self.store.activity(run.id or 0)
        ]

    async def _send_nudge(
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
        text = chat.nudges.text.format(
            name=user.name, question_id=qid, question=qtext, title=chat.title, tag=chat.tag
        )
        text += " (Reply /quietchat and I won't nudge you again.)"
        key = f"{chat.id}/{nudge.run_id}/nudge:{user.id}:{nudge.seq}"
        message = Outgoing(
            "nudge", text, chat.title, chat.tag, question_id=qid, mention=user, key=key
        )
        port = self.port_for(chat.platform)
        keeper = asyncio.create_task(
            self._keep_lease(
                f"the nudge to {user.name}",
                lambda until: self.store.renew_nudge_lease(nudge.id or 0, until),
            )
        )
        try:
            await self._nudge_once(chat, port, user, message, nudge, recover)
        finally:
            keeper.cancel()

    async def _nudge_once(
        self, chat: Chat, port: Port, user: User, message: Outgoing, nudge: NudgeRow, recover: bool
    ) -> None:
        try:
            if recover and await _nudge_landed(chat, port, user, message, nudge):
                log.info("the nudge to %s had landed before; not sending it again", user.name)
            elif chat.nudges.via == "dm":
                await port.send_dm(user, message)
            else:
                await port.post(chat.channel, message)
        except Exception as exc:  # PortError, or a timeout the adapter did not wrap
            attempts = nudge.attempts + 1
            permanent = isinstance(exc, PortError) and exc.permanent
            again = not permanent and attempts < NUDGE_ATTEMPTS
            retry_at = self.clock.now() + RETRY_BASE * (2**nudge.attempts) if again else None
            log.warning("nudge to %s failed: %s%s", user.name, exc, "; will retry" if again else "")
            await self.store.mark_nudge_failed(nudge.id or 0, retry_at)
            self._note_retry(retry_at)
            return
        await retry_transient(
            lambda: self.store.mark_nudge_delivered(nudge.id or 0, self.clock.now()),
            what=f"recording the nudge to {user.name}",
            policy=RECORD_RETRY,
        )

    # waking

    async def _run_wakes(self, run: RunRow, now: datetime) -> list[datetime]:
        chat = self.chat_of(run)
        if run.state in WAITING:
            upcoming = [run.scheduled_start - o for o in chat.announce]
            return [run.scheduled_start, *(t for t in upcoming if t > now)]
        if run.state == RunState.ENDED:
            return [now]
        if run.state != RunState.RUNNING:
            return []
        times = [run.end_at]
        if run.next_question < len(chat.questions):
            times.append(self.question_due(run, chat, run.next_question))
        if run.current_question is not None and _nudging(chat):
            nudge = next_nudge_time(
                await self._activities(run),
                settings=chat.nudges,
                last_question_at=run.current_question_at,
                opted_out=await self._quiet_users(chat.platform),
            )
            if nudge is not None:
                times.append(nudge)
        return times


def _nudging(chat: Chat) -> bool:
    """Whether the chat can nudge anyone at all: if not, who spoke need not be read."""
    return chat.nudges.enabled and chat.nudges.max_per_person > 0


def _newer_announcement(run: RunRow, due: list[timedelta]) -> bool:
    return run.announced_offset is None or min(due).total_seconds() < run.announced_offset


def _retry_at(post: PostRow) -> datetime:
    """When a claimed, undelivered post may be (re)delivered by whoever ticks.

    Its lease says so: held by a live claimer (renewed), or the back-off after a failure.
    Rows from release 1 have no lease: a claim never attempted belonged to its claimer for
    CLAIM_LEASE, a failed one waited RETRY_BASE doubling per attempt.
    """
    if post.lease_until is not None:
        return post.lease_until
    if post.attempts == 0:
        return post.claimed_at + CLAIM_LEASE
    return post.claimed_at + RETRY_BASE * (2 ** (post.attempts - 1))


def _recap_channel(chat: Chat) -> str:
    return chat.summary.channel or chat.channel


def intro_text(chat: Chat) -> str:
    text = (
        chat.intro or f"Welcome to {chat.title}! Questions come as Q1, Q2...; answer with A1, A2..."
    )
    return f"{text} {chat.tag}".rstrip()


def announcement_text(chat: Chat, run: RunRow) -> str:
    zone = chat.zone
    start = run.scheduled_start.astimezone(zone)
    preview = "\n".join(f"{q.id}: {q.text}" for q in chat.questions)
    return (
        f"{chat.title} {chat.tag} starts {start:%a %d %b %H:%M} {start.tzname()} "
        f"and runs {format_duration(chat.schedule.duration)}.\nThe questions:\n{preview}"
    )


async def _landed(
    port: Port,
    channel: str,
    message: Outgoing,
    post: PostRow,
    thread_id: str | None,
    start_thread: str | None,
) -> PostedRef | None:
    """An earlier attempt of ``post`` that landed, if the platform can tell. If it cannot be
    asked (an outage, a missing scope), the post is sent anyway: twice is better than never."""
    try:
        return await port.find_post(
            channel,
            message.key or post.key,
            thread_id=thread_id,
            start_thread=start_thread,
            since=post.claimed_at - LANDED_SLACK,
        )
    except Exception as exc:  # a PortError, or an adapter that does not wrap its errors
        # Said once per post: through an outage every retry fails here, and each failed
        # attempt is logged on its own ("post ... failed; will retry").
        log.log(
            logging.WARNING if post.attempts <= 1 else logging.DEBUG,
            "could not check whether %s of run %s landed before; posting it (it may appear "
            "twice): %s",
            post.key,
            post.run_id,
            exc,
        )
        return None


async def _nudge_landed(
    chat: Chat, port: Port, user: User, message: Outgoing, nudge: NudgeRow
) -> bool:
    """Whether an earlier attempt of ``nudge`` landed; if the platform cannot be asked, the
    nudge is sent (as with posts: twice is better than a lost step)."""
    key, since = message.key or "", nudge.sent_at - LANDED_SLACK
    try:
        if chat.nudges.via == "dm":
            return await port.find_dm(user, key, since=since) is not None
        return await port.find_post(chat.channel, key, since=since) is not None
    except Exception as exc:  # a PortError, or an adapter that does not wrap its errors
        log.warning("could not check whether the nudge to %s landed: %s", user.name, exc)
        return False
