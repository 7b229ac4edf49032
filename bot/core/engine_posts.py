"""A run's posts: what each one says and where it goes, delivering it (again, when its
claimer failed or died), and the posted recap kept up to date.

A post is rebuilt from the run's plan on every attempt, so a retry says the same, and tagged
with its key (``<chat>/<run>/question:Q2``) so a retry can find or dedupe an earlier attempt.
The delivery itself (lease, look before sending again, record, back off) is bot/core/delivery.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.core import wording
from bot.core.archive_links import chat_calendar
from bot.core.attribution import answer_label
from bot.core.delivery import CLAIM_LEASE, MAX_ATTEMPTS, Courier, ToChannel, retry_delay
from bot.core.digest import DIGEST_KIND, digest_text, read_digest
from bot.core.durations import format_duration
from bot.core.engine_context import EngineContext, chat_of
from bot.core.events import User
from bot.core.plan import Chat
from bot.core.ports import Attachment, Outgoing, PortError, PostedRef
from bot.core.recap import Recap, build_recap, recap_text
from bot.core.snapshot import load_run_view
from bot.core.store import PostRow, RunRow
from bot.core.windows import CLOSE_KIND, closing_note, windows

log = logging.getLogger("chathost.engine")

# Rows of a run's scheduled event (claimed and leased like posts): bot/core/engine_events.py
# delivers them.
EVENT_KIND = "event"

# A step's message, the thread it goes into, and the name of the thread it opens.
Rendered = tuple[Outgoing, str | None, str | None]


class RunPosts:
    """Renders and delivers the posts the run steps claim."""

    def __init__(self, ctx: EngineContext, courier: Courier) -> None:
        self.ctx = ctx
        self.courier = courier

    async def deliver(self, run: RunRow, post: PostRow, *, recover: bool = False) -> None:
        """Deliver a post whose lease we hold. ``recover``: an earlier attempt may have
        landed without being recorded, so the platform is asked for it first."""
        if await self._waits_its_turn(post):
            return
        chat = chat_of(run)
        parcel = PostParcel(
            self,
            run,
            chat,
            post,
            label=f"{post.key} of run {post.run_id}",
            subject=f"post {post.key} of run {post.run_id}",
        )
        await self.courier.deliver(self.ctx.port(chat), parcel, recover=recover)

    async def _waits_its_turn(self, post: PostRow) -> bool:
        """A run's posts go out in the order they were claimed: after an outage Q2, due now,
        must not land before Q1, whose retry is still backing off. So a post behind a failed
        one gives its delivery back until that one's retry (no attempt counted), and the
        retries then take them in order. Scheduled-event rows keep their own order."""
        if post.kind == EVENT_KIND:
            return False
        ahead = await self.ctx.store.failed_before(post, ignore_kind=EVENT_KIND)
        if ahead is None:
            return False
        until = max(retry_at(ahead), self.ctx.clock.now())
        if not await self.ctx.store.defer_post(post.id or 0, self.ctx.worker_id, until):
            return False
        log.info(
            "%s of run %s waits for %s, whose delivery failed (retried at %s)",
            post.key,
            post.run_id,
            ahead.key,
            f"{until:%H:%M:%S}",
        )
        self.courier.on_retry(until)
        return True

    async def retry_pending(self, now: datetime) -> None:
        """Deliver claimed posts whose claimer failed or died (lease run out)."""
        store = self.ctx.store
        for pending in await store.pending_posts():
            if now < retry_at(pending) or self.ctx.stopping or pending.kind == EVENT_KIND:
                continue
            async with self.ctx.run_lock(pending.run_id):
                # Taking the lease is the arbiter: of all processes that find this post due,
                # exactly one gets it; a delivery in flight holds it already.
                until = self.ctx.clock.now() + self.ctx.claim_lease
                post = await store.lease_post(pending.id or 0, self.ctx.worker_id, now, until)
                run = await store.get_run(pending.run_id)
                if post is not None and run is not None:
                    log.info("delivering %s of run %s (retry or take-over)", post.key, run.id)
                    await self.deliver(run, post, recover=True)

    async def pending_wakes(self, now: datetime) -> list[datetime]:
        """When each claimed but undelivered post may be retried."""
        return [max(now, retry_at(post)) for post in await self.ctx.store.pending_posts()]

    async def render(self, run: RunRow, chat: Chat, post: PostRow) -> Rendered:
        """The message for a claimed step, tagged with the step's key."""
        message, thread_id, start_thread = await self._render_step(run, chat, post)
        key = f"{chat.id}/{run.id}/{post.key}"
        return dataclasses.replace(message, key=key), thread_id, start_thread

    async def _render_step(self, run: RunRow, chat: Chat, post: PostRow) -> Rendered:
        per_chat_thread = None
        if chat.threads == "per-chat":
            # The intro may have opened the thread after ``run`` was read (another process).
            fresh = run if run.thread_id else await self.ctx.store.get_run(run.id or 0)
            per_chat_thread = fresh.thread_id if fresh else None
        base = {"chat_title": chat.title, "tag": chat.tag}
        if post.kind == "announce":
            text = announcement_text(chat, run, public_url=self.ctx.public_url)
            starts = run.scheduled_start
            return Outgoing("announce", text, starts_at=starts, **base), None, None
        if post.kind == "intro":
            start = chat.title if chat.threads == "per-chat" else None
            return Outgoing("intro", intro_text(chat), **base), None, start
        if post.kind == "question":
            question = chat.question(post.question_id or "")
            assert question is not None
            label = answer_label(question.id) if question.extra else ""
            text = wording.question_post(
                question.id, question.text, tag=chat.tag, extra_label=label
            )
            start = (
                wording.question_thread(question.id, question.text)
                if chat.threads == "per-question"
                else None
            )
            message = Outgoing("question", text, question_id=question.id, **base)
            return message, per_chat_thread, start
        if post.kind == DIGEST_KIND:
            view = await read_digest(self.ctx.store, run, post.claimed_at)
            return Outgoing("digest", digest_text(chat, view), **base), None, None
        if post.kind == CLOSE_KIND:
            return await self._closing_note(run, chat, post, per_chat_thread)
        if post.kind == "outro":
            return Outgoing("outro", chat.outro, **base), per_chat_thread, None
        recap = await self.recap(run.id or 0)
        thread = per_chat_thread if chat.summary.post_to == "thread" else None
        files = await self._illustrations(recap)
        message = Outgoing("recap", recap_text(recap), recap=recap, attachments=files, **base)
        return message, thread, None

    async def _closing_note(
        self, run: RunRow, chat: Chat, post: PostRow, per_chat_thread: str | None
    ) -> Rendered:
        """In the question's own thread (else the chat's, else the channel): its answers by
        the time it closed, so a retry says the same."""
        window = next(w for w in windows(run, chat) if w.question_id == post.question_id)
        store = self.ctx.store
        records = await store.message_records(run.id or 0)
        text = closing_note(window, records)
        thread = per_chat_thread
        if chat.threads == "per-question":
            key = f"question:{window.question_id}"
            asked = next((p for p in await store.posts(run.id or 0) if p.key == key), None)
            thread = asked.thread_id if asked is not None else None
        base = {"chat_title": chat.title, "tag": chat.tag}
        return Outgoing("close", text, question_id=window.question_id, **base), thread, None

    async def _illustrations(self, recap: Recap) -> tuple[Attachment, ...]:
        """Drawn in a thread (a word cloud is ~0.2 s of Pillow); a recap without its picture
        beats no recap."""
        illustrate = self.ctx.illustrate
        if illustrate is None:
            return ()
        try:
            return tuple(await asyncio.to_thread(illustrate, recap))
        except Exception:
            log.exception("could not draw the pictures of the recap of %s", recap.title)
            return ()

    async def recap(self, run_id: int) -> Recap:
        view = await load_run_view(self.ctx.store, run_id)
        return build_recap(view, public_url=self.ctx.public_url)

    async def refresh_recap(self, run_id: int) -> bool:
        """Re-render a posted recap after late answers, edits, reactions, picks or a
        /forgetme changed the run. The pictures are drawn again too: the word cloud is made
        of the answers, so the port replaces the posted one when it differs (or removes it
        when no words are left)."""
        store = self.ctx.store
        post = next((p for p in await store.posts(run_id) if p.kind == "recap"), None)
        run = await store.get_run(run_id)
        if post is None or run is None or post.message_id is None or post.channel_id is None:
            return False
        chat = chat_of(run)
        recap = await self.recap(run_id)
        key = f"{chat.id}/{run_id}/{post.key}"  # as posted: the port may look its parts up
        files = await self._illustrations(recap)
        base = {"chat_title": chat.title, "tag": chat.tag, "key": key}
        message = Outgoing("recap", recap_text(recap), recap=recap, attachments=files, **base)
        ref = PostedRef(post.channel_id, post.message_id, post.thread_id)
        try:
            await self.ctx.port(chat).update(ref, message)
        except PortError as exc:
            log.warning("could not update the recap of run %s: %s", run_id, exc)
            return False
        return True

    async def report_failure(self, chat: Chat, post: PostRow, error: str) -> None:
        """A post that will never land is told to the hosts rather than dropped in silence."""
        text = wording.post_failed(post.key, title=chat.title, error=error)
        port = self.ctx.port(chat)
        for host in chat.host_people:
            try:
                await port.send_dm(User(id=host, name=host), Outgoing("notice", text, chat.title))
            except PortError as exc:
                log.error("could not tell host %s either: %s", host, exc)


@dataclass(frozen=True)
class PostParcel:
    """A claimed post of a run, as bot/core/delivery.py carries it."""

    posts: RunPosts
    run: RunRow
    chat: Chat
    post: PostRow
    label: str
    subject: str
    max_attempts: int = MAX_ATTEMPTS

    @property
    def attempts(self) -> int:
        return self.post.attempts

    @property
    def claimed_at(self) -> datetime:
        return self.post.claimed_at

    async def render(self) -> tuple[Outgoing, ToChannel]:
        message, thread_id, start_thread = await self.posts.render(self.run, self.chat, self.post)
        channel = recap_channel(self.chat) if self.post.kind == "recap" else self.chat.channel
        return message, ToChannel(channel, thread_id, start_thread)

    async def renew(self, until: datetime) -> bool:
        ctx = self.posts.ctx
        return await ctx.store.renew_post_lease(self.post.id or 0, ctx.worker_id, until)

    async def record_sent(self, ref: PostedRef, at: datetime) -> None:
        per_chat = self.post.kind == "intro" and self.chat.threads == "per-chat"
        # The announcement and the intro go to the channel itself (never into a thread).
        pin = self.post.kind in ("announce", "intro") and self.run.channel_id is None
        await self.posts.ctx.store.mark_posted(
            self.post.id or 0, ref, at, run_thread=per_chat, run_channel=pin
        )

    async def record_failed(self, error: str, *, give_up: bool, retry_at: datetime | None) -> None:
        await self.posts.ctx.store.mark_post_failed(
            self.post, error, give_up=give_up, retry_at=retry_at
        )

    async def give_up(self, error: PortError) -> None:
        await self.posts.report_failure(self.chat, self.post, str(error))


def retry_at(post: PostRow) -> datetime:
    """When a claimed, undelivered post may be (re)delivered by whoever ticks.

    Its lease says so: held by a live claimer (renewed), or the back-off after a failure.
    Rows from release 1 have no lease: a claim never attempted belonged to its claimer for
    CLAIM_LEASE, a failed one waited its retry_delay.
    """
    if post.lease_until is not None:
        return post.lease_until
    if post.attempts == 0:
        return post.claimed_at + CLAIM_LEASE
    return post.claimed_at + retry_delay(post.attempts)


def recap_channel(chat: Chat) -> str:
    return chat.summary.channel or chat.channel


def intro_text(chat: Chat) -> str:
    return wording.intro(chat.intro, title=chat.title, tag=chat.tag)


def announcement_text(chat: Chat, run: RunRow, *, public_url: str | None = None) -> str:
    """With the archive's public address, the announcement links the chat's calendar feed
    (the archive serves it), so a reader adds every run in one tap."""
    return wording.announcement(
        title=chat.title,
        tag=chat.tag,
        start=run.scheduled_start.astimezone(chat.zone),
        duration=format_duration(chat.schedule.duration),
        questions=[(q.id, q.text) for q in chat.questions],
        calendar=chat_calendar(public_url, chat.id),
    )
