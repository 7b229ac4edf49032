"""An async chat's own steps, beside the live ones (bot/core/engine_steps.py): each question
closes at the end of its window with a closing note in its thread, and each day's digest
goes out at its time (what it says: bot/core/digest.py; the reminders:
bot/core/engine_reminders.py).

Opening a question is the live step (``next_question`` moves on and the question post is
claimed with it). Closing one changes nothing in the run: its note is a post claimed under its
own key (``close:Q2``), so of every process that finds it due exactly one claims it, and the
claimer delivers it as any post (bot/core/delivery.py). What this process has seen claimed is
remembered, so a run's posts are read only when a close falls due. A digest is claimed the
same way (``digest:2026-12-02``): a restart neither skips nor doubles it.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.digest import DIGEST_KIND, digest_key, digest_times, read_digest
from bot.core.engine_context import EngineContext
from bot.core.engine_posts import RunPosts
from bot.core.plan import Chat
from bot.core.store import PostClaim, PostRow, RunRow
from bot.core.windows import CLOSE_KIND, Window, opened


def close_key(question_id: str) -> str:
    return f"{CLOSE_KIND}:{question_id}"


class QuestionCloser:
    """Claims and delivers the closing note of each question whose window has ended."""

    def __init__(self, ctx: EngineContext, posts: RunPosts) -> None:
        self.ctx = ctx
        self.posts = posts
        self._closed: set[tuple[int, str]] = set()  # (run, question) claimed by anyone

    def _due(self, run: RunRow, chat: Chat, now: datetime) -> list[Window]:
        run_id = run.id or 0
        return [
            w
            for w in opened(run, chat)
            if w.closes <= now and (run_id, w.question_id) not in self._closed
        ]

    async def close_due(self, run: RunRow, chat: Chat, now: datetime) -> None:
        """Claim the closing note of every question whose window ended by ``now`` (a
        question the hosts skipped closes without one), then deliver the ones we claimed."""
        due = self._due(run, chat, now)
        if not due:
            return
        run_id = run.id or 0
        store = self.ctx.store
        posts = {p.key: p for p in await store.posts(run_id)}
        for window in due:
            if self.ctx.stopping:
                return
            question = posts.get(f"question:{window.question_id}")
            key = close_key(window.question_id)
            if key not in posts and question is not None and not question.skipped:
                claim = PostClaim(
                    key,
                    CLOSE_KIND,
                    window.closes,
                    question_id=window.question_id,
                    owner=self.ctx.worker_id,
                    lease_until=self.ctx.clock.now() + self.ctx.claim_lease,
                )
                post = await store.claim_post(run_id, claim)
                if post is not None:
                    await self.posts.deliver(run, post)
            self._closed.add((run_id, window.question_id))

    def next_close(self, run: RunRow, chat: Chat, now: datetime) -> datetime | None:
        """When the next opened question closes (None: none is open). A close not handled
        yet counts even when its time has passed: one that came round after the step's
        clock reading (the step took a while) would otherwise wait for the run's next wake."""
        run_id = run.id or 0
        return min(
            (w.closes for w in opened(run, chat) if (run_id, w.question_id) not in self._closed),
            default=None,
        )

    def forget(self, run_id: int) -> None:
        self._closed = {k for k in self._closed if k[0] != run_id}


class Digests:
    """Claims and delivers each day's digest of an async chat."""

    def __init__(self, ctx: EngineContext, posts: RunPosts) -> None:
        self.ctx = ctx
        self.posts = posts
        self._done: dict[int, datetime] = {}  # run -> the latest digest time decided

    async def digest_due(self, run: RunRow, chat: Chat, now: datetime) -> None:
        """The latest digest due by ``now``, if not decided yet: claimed and delivered when
        there are new answers. An earlier one missed while no process ran is covered by it."""
        due = [t for t in digest_times(run, chat) if t <= now]
        decided = self._done.get(run.id or 0)
        if not due or (decided is not None and due[-1] <= decided):
            return
        at = due[-1]
        store = self.ctx.store
        key = digest_key(at.astimezone(chat.zone).date())
        posts = await store.posts(run.id or 0)
        claimed = any(p.key == key for p in posts)
        if not claimed and not (await read_digest(store, run, at, posts=posts)).empty:
            claim = PostClaim(
                key,
                DIGEST_KIND,
                at,
                owner=self.ctx.worker_id,
                lease_until=self.ctx.clock.now() + self.ctx.claim_lease,
            )
            post: PostRow | None = await store.claim_post(run.id or 0, claim)
            if post is not None:
                await self.posts.deliver(run, post)
        self._done[run.id or 0] = at

    def next_time(self, run: RunRow, chat: Chat, now: datetime) -> datetime | None:
        """The first digest time after the last one decided, even when it has passed: a
        digest due after the step's clock reading (the step took a while) would otherwise
        wait for the run's next wake (a digest went out 6 simulated hours late so)."""
        decided = self._done.get(run.id or 0)
        return min(
            (t for t in digest_times(run, chat) if decided is None or t > decided), default=None
        )

    def forget(self, run_id: int) -> None:
        self._done.pop(run_id, None)
