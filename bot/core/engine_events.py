"""A run's scheduled event in the platform's own calendar (Discord's guild events), kept in
step with the run: created ahead, edited when the plan or the end moves, set active at the
start, completed at the end, cancelled when the plan skips the run.

Why the posts table: each step of an event is a row there (kind ``event``), claimed under a
unique key per run, leased and recorded by the same Courier as every post
(bot/core/delivery.py). So each step happens once across restarts and several workers, and
a create whose answer was lost is looked for (``EventPort.find_event``) before it is repeated.

Keys: ``event:save:<n>:<digest>`` for the n-th save (the first creates, later ones edit; the
digest names what was saved, so a changed plan or a moved end claims the next save), then
``event:active``, ``event:completed`` or ``event:canceled``. The event's id is the
``message_id`` of the first save.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import wording
from bot.core.archive_links import chat_page
from bot.core.delivery import MAX_ATTEMPTS, Courier
from bot.core.engine_context import EngineContext, chat_of
from bot.core.engine_posts import EVENT_KIND, retry_at
from bot.core.plan import Chat
from bot.core.ports import (
    EventDetails,
    EventPort,
    EventStatus,
    Outgoing,
    Port,
    PortError,
    PostedRef,
)
from bot.core.run_states import DONE, LIVE, WAITING, RunState
from bot.core.store import PostClaim, PostRow, RunRow

log = logging.getLogger("chathost.engine")

# How far ahead the event of the next run is created when no announcement is earlier: a
# week puts it in the guild's event list before people plan their week.
EVENT_LEAD = timedelta(days=7)
SAVE = "event:save"

# The current plan's chat of an id (a skip added to chats.yaml cancels a run made earlier).
PlanChat = Callable[[str], Chat | None]


def event_lead(chat: Chat) -> timedelta:
    """How long before its start a run (and its event) is made: at the first announcement,
    or a week ahead when no announcement is earlier."""
    return max(max(chat.announce, default=timedelta(0)), EVENT_LEAD)


def event_details(run: RunRow, chat: Chat, *, public_url: str | None) -> EventDetails:
    """The event as it should stand now: the run's times (its end moved by /extendchat),
    the questions as a preview and the chat's archive page."""
    lines = [chat.intro.strip()] if chat.intro.strip() else []
    lines.append(wording.CALENDAR_QUESTIONS)
    lines += [wording.QUESTION.format(question_id=q.id, question=q.text) for q in chat.questions]
    page = chat_page(public_url, chat.id)
    if page is not None:
        lines += ["", wording.CALENDAR_ARCHIVE.format(url=page)]
    return EventDetails(
        key=f"{chat.id}/{run.id}/event",
        title=wording.tagged(chat.title, chat.tag),
        description="\n".join(lines),
        start=run.scheduled_start,
        end=run.end_at,
        channel=chat.channel,
    )


def digest(details: EventDetails) -> str:
    """Names what a save wrote: the next save is claimed when this changes."""
    parts = (details.title, details.description, details.start, details.end, details.channel)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def skipped(run: RunRow, chat: Chat | None) -> bool:
    """The current plan skips this run's local date (added after the run was made)."""
    if chat is None:
        return False
    return run.scheduled_start.astimezone(chat.zone).date() in chat.schedule.skip


@dataclass(frozen=True)
class _Rows:
    """A run's event rows as stored: the saves in order, and the status steps by key."""

    saves: list[PostRow]
    status: dict[str, PostRow]

    @classmethod
    def of(cls, rows: list[PostRow]) -> _Rows:
        mine = [r for r in rows if r.kind == EVENT_KIND]
        saves = sorted(
            (r for r in mine if r.key.startswith(SAVE)), key=lambda r: int(r.key.split(":")[2])
        )
        return cls(saves, {r.key: r for r in mine if not r.key.startswith(SAVE)})

    @property
    def event_id(self) -> str | None:
        return self.saves[0].message_id if self.saves else None

    def done(self, key: str) -> bool:
        row = self.status.get(key)
        return row is not None and row.posted_at is not None

    def busy(self) -> bool:
        """A step is claimed but not delivered: the next waits for it (in order)."""
        rows = [*self.saves, *self.status.values()]
        return any(r.posted_at is None and not r.gave_up for r in rows)


class RunEvents:
    """Drives the events of the runs of chats with ``events: true``."""

    def __init__(self, ctx: EngineContext, courier: Courier, plan_chat: PlanChat) -> None:
        self.ctx = ctx
        self.courier = courier
        self.plan_chat = plan_chat

    def port(self, chat: Chat) -> EventPort | None:
        port = self.ctx.port(chat)
        return port if isinstance(port, EventPort) else None

    async def sync(self, run: RunRow, chat: Chat, now: datetime) -> None:
        """Take every event step now due for ``run``, in order; a failed one stops the rest
        (it is retried after its back-off, by whoever ticks)."""
        if not chat.events or run.id is None or self.port(chat) is None:
            return
        for _ in range(4):  # a save, then at most active, completed (or canceled)
            rows = _Rows.of(await self.ctx.store.posts(run.id))
            if rows.busy():
                return
            claim = self._next(run, chat, rows, now)
            if claim is None:
                return
            post = await self.ctx.store.claim_post(run.id, claim)
            if post is None:
                return  # another process took this step
            await self.deliver(run, post)

    def _next(self, run: RunRow, chat: Chat, rows: _Rows, now: datetime) -> PostClaim | None:
        """The one step due, if any."""
        if "event:canceled" in rows.status or rows.done("event:completed"):
            return None
        state = RunState(run.state)
        until = now + self.ctx.claim_lease
        owner = self.ctx.worker_id

        def step(key: str) -> PostClaim:
            return PostClaim(key, EVENT_KIND, now, owner=owner, lease_until=until)

        if state in WAITING and skipped(run, self.plan_chat(chat.id)):
            return step("event:canceled") if rows.event_id else None
        finished = state in DONE or state == RunState.ENDED
        if rows.event_id is None:
            # Never create an event of a run that is over (or missed: nobody to invite).
            if finished or state == RunState.MISSED or now >= run.end_at:
                return None
            wanted = digest(event_details(run, chat, public_url=self.ctx.public_url))
            return step(f"{SAVE}:1:{wanted}")
        started = state in LIVE or finished or now >= run.scheduled_start
        if state == RunState.MISSED:
            return None if rows.done("event:active") else step("event:canceled")
        if started and not rows.done("event:active"):
            return step("event:active")
        if finished:
            return step("event:completed")
        wanted = digest(event_details(run, chat, public_url=self.ctx.public_url))
        last = rows.saves[-1].key.split(":")
        if last[3] != wanted:
            return step(f"{SAVE}:{int(last[2]) + 1}:{wanted}")
        return None

    async def deliver(self, run: RunRow, post: PostRow, *, recover: bool = False) -> None:
        chat = chat_of(run)
        rows = _Rows.of(await self.ctx.store.posts(run.id or 0))
        parcel = EventParcel(
            self, run, chat, post, rows.event_id, label=f"{post.key} of run {post.run_id}"
        )
        await self.courier.deliver(self.ctx.port(chat), parcel, recover=recover)

    async def retry_pending(self, pending: list[PostRow], now: datetime) -> None:
        """Event steps whose claimer failed or died (their lease ran out)."""
        store = self.ctx.store
        for row in pending:
            if row.kind != EVENT_KIND or now < retry_at(row) or self.ctx.stopping:
                continue
            async with self.ctx.run_lock(row.run_id):
                until = self.ctx.clock.now() + self.ctx.claim_lease
                post = await store.lease_post(row.id or 0, self.ctx.worker_id, now, until)
                run = await store.get_run(row.run_id)
                if post is not None and run is not None:
                    await self.deliver(run, post, recover=True)

    async def interested(self, run: RunRow, chat: Chat) -> int | None:
        """The event's "interested" count, for the recap; None when there is none."""
        port = self.port(chat) if chat.events else None
        rows = _Rows.of(await self.ctx.store.posts(run.id or 0)) if port else None
        if port is None or rows is None or rows.event_id is None:
            return None
        try:
            return await port.event_interested(rows.event_id)
        except PortError as exc:
            log.warning("could not read who is interested in run %s: %s", run.id, exc)
            return None


@dataclass(frozen=True)
class ToEvent:
    """A run's event as a Courier destination: a save creates or edits it, a status step
    moves it; ``find`` looks for a create that landed unrecorded."""

    details: EventDetails
    event_id: str | None
    status: EventStatus | None

    def _events(self, port: Port) -> EventPort:
        assert isinstance(port, EventPort)
        return port

    async def send(self, port: Port, message: Outgoing) -> PostedRef:
        events = self._events(port)
        if self.status is None:
            event_id = await events.save_event(self.event_id, self.details)
        else:
            assert self.event_id is not None
            await events.set_event_status(self.event_id, self.status)
            event_id = self.event_id
        return PostedRef(self.details.channel, event_id)

    async def find(self, port: Port, key: str, since: datetime) -> PostedRef | None:
        if self.status is not None or self.event_id is not None:
            return None  # an edit or a status step may simply be done again
        found = await self._events(port).find_event(self.details)
        return None if found is None else PostedRef(self.details.channel, found)


@dataclass(frozen=True)
class EventParcel:
    """One claimed event step, as bot/core/delivery.py carries it."""

    events: RunEvents
    run: RunRow
    chat: Chat
    post: PostRow
    event_id: str | None
    label: str
    max_attempts: int = MAX_ATTEMPTS

    @property
    def subject(self) -> str:
        return f"update {self.label}"

    @property
    def attempts(self) -> int:
        return self.post.attempts

    @property
    def claimed_at(self) -> datetime:
        return self.post.claimed_at

    async def render(self) -> tuple[Outgoing, ToEvent]:
        details = event_details(self.run, self.chat, public_url=self.events.ctx.public_url)
        status = self.post.key.removeprefix("event:")
        known: EventStatus | None = None
        if status in ("active", "completed", "canceled"):
            known = status  # type: ignore[assignment]
        message = Outgoing("notice", details.title, self.chat.title, key=details.key)
        return message, ToEvent(details, self.event_id, known)

    async def renew(self, until: datetime) -> bool:
        ctx = self.events.ctx
        return await ctx.store.renew_post_lease(self.post.id or 0, ctx.worker_id, until)

    async def record_sent(self, ref: PostedRef, at: datetime) -> None:
        await self.events.ctx.store.mark_posted(self.post.id or 0, ref, at)

    async def record_failed(self, error: str, *, give_up: bool, retry_at: datetime | None) -> None:
        await self.events.ctx.store.mark_post_failed(
            self.post, error, give_up=give_up, retry_at=retry_at
        )

    async def give_up(self, error: PortError) -> None:
        """An event is a convenience: the chat goes on without it, and the log says why."""
        log.error("gave up on %s: %s", self.label, error)
