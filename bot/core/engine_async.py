"""An async chat's own steps, beside the live ones (bot/core/engine_steps.py): each question
closes at the end of its window with a closing note in its thread.

Opening a question is the live step (``next_question`` moves on and the question post is
claimed with it). Closing one changes nothing in the run: its note is a post claimed under its
own key (``close:Q2``), so of every process that finds it due exactly one claims it, and the
claimer delivers it as any post (bot/core/delivery.py). What this process has seen claimed is
remembered, so a run's posts are read only when a close falls due.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.engine_context import EngineContext
from bot.core.engine_posts import RunPosts
from bot.core.plan import Chat
from bot.core.store import PostClaim, RunRow
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
        """When the next opened question closes (None: none is open)."""
        return min((w.closes for w in opened(run, chat) if w.closes > now), default=None)

    def forget(self, run_id: int) -> None:
        self._closed = {k for k in self._closed if k[0] != run_id}
