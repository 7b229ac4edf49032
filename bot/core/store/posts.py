"""Posts: the steps of a run that post something, claimed first (a unique key per run),
then leased by the one process that delivers them, then marked posted: exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.ports import PostedRef
from bot.core.store import prepared
from bot.core.store.base import StoreBase
from bot.core.store.tables import PostRow
from bot.core.store.values import storable


@dataclass(frozen=True)
class PostClaim:
    """A step to claim: ``key`` is unique per run (``question:Q2``, ``intro``, ``recap``)."""

    key: str
    kind: str
    at: datetime
    question_id: str | None = None
    skipped: bool = False
    # Who delivers it, and until when nobody else may (see PostRow.lease_owner).
    owner: str | None = None
    lease_until: datetime | None = None


class PostsMixin(StoreBase):
    async def claim_post(self, run_id: int, claim: PostClaim) -> PostRow | None:
        """Claim a step; None when it was claimed before (by us or another process)."""
        async with self.engine.begin() as conn:
            return await self._claim(conn, run_id, claim)

    async def _claim(self, conn: AsyncConnection, run_id: int, claim: PostClaim) -> PostRow | None:
        values = {
            "p_run_id": run_id,
            "p_key": claim.key,
            "p_kind": claim.kind,
            "p_question_id": claim.question_id,
            "p_claimed_at": claim.at,
            "p_skipped": claim.skipped,
            "p_lease_owner": claim.owner,
            "p_lease_until": claim.lease_until,
        }
        found = await conn.execute(prepared.claim_post(self.dialect), values)
        row = found.mappings().first()
        return None if row is None else PostRow.model_construct(**row)

    async def get_post(self, post_id: int) -> PostRow | None:
        async with self.session() as s:
            return await s.get(PostRow, post_id)

    async def pending_posts(self) -> list[PostRow]:
        """Claimed steps not yet delivered: a crash or a platform error came in between."""
        return await self._fetch(PostRow, prepared.PENDING_POSTS)

    async def lease_post(
        self, post_id: int, owner: str, now: datetime, until: datetime
    ) -> PostRow | None:
        """Take the delivery of a pending post if nobody holds it; the post, or None.

        The single UPDATE is the arbiter between processes: of several that find the same
        post due, one gets a row back and delivers; the others skip it.
        """
        stmt = (
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.posted_at.is_(None),
                PostRow.gave_up.is_(False),
                PostRow.skipped.is_(False),
                or_(PostRow.lease_until.is_(None), PostRow.lease_until <= now),
            )
            .values(lease_owner=owner, lease_until=until)
            .returning(PostRow.id)
        )
        async with self.session() as s:
            if (await s.execute(stmt)).scalar_one_or_none() is None:
                return None
            return await s.get(PostRow, post_id)

    async def failed_before(self, post: PostRow, *, ignore_kind: str) -> PostRow | None:
        """The run's first post claimed before ``post`` whose delivery failed and is backing
        off (nobody holds it), other than ``ignore_kind``'s; None when there is none."""
        params = {"p_run": post.run_id, "p_id": post.id or 0, "p_kind": ignore_kind}
        found = await self._fetch(PostRow, prepared.FAILED_BEFORE, params)
        return found[0] if found else None

    async def defer_post(self, post_id: int, owner: str, until: datetime) -> bool:
        """Give back the delivery of a post we hold, to be taken again from ``until`` (no
        attempt counted); False if it was not ours."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.lease_owner == owner, PostRow.posted_at.is_(None))
            .values(lease_owner=None, lease_until=until)
            .returning(PostRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def renew_post_lease(self, post_id: int, owner: str, until: datetime) -> bool:
        """Keep a delivery in flight ours; False if it is no longer ours (or already done)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.lease_owner == owner, PostRow.posted_at.is_(None))
            .values(lease_until=until)
            .returning(PostRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def mark_posted(
        self,
        post_id: int,
        ref: PostedRef,
        now: datetime,
        *,
        run_thread: bool = False,
        run_channel: bool = False,
    ) -> None:
        """Record a delivery; with ``run_thread`` the run adopts the post's thread, with
        ``run_channel`` the post's channel id (if it has none yet), in the same transaction, so
        a crash cannot leave either unrecorded."""
        values = {
            "p_id": post_id,
            "p_at": now,
            "p_channel": ref.channel_id,
            "p_message": ref.message_id,
            "p_thread": ref.thread_id,
        }
        async with self.engine.begin() as conn:
            run_id = (await conn.execute(prepared.MARK_POSTED, values)).scalar_one_or_none()
            if run_thread and ref.thread_id and run_id is not None:
                # Bumping the version makes any stale compare-and-set elsewhere re-read.
                await conn.execute(
                    prepared.ADOPT_THREAD, {"p_id": run_id, "p_thread": ref.thread_id}
                )
            if run_channel and run_id is not None:
                await conn.execute(
                    prepared.PIN_CHANNEL, {"p_id": run_id, "p_channel": ref.channel_id}
                )

    async def mark_post_failed(
        self, post: PostRow, error: str, *, give_up: bool, retry_at: datetime | None = None
    ) -> None:
        """Count a failed attempt; ``retry_at`` is when anyone may try again (the back-off)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post.id)
            .values(
                error=storable(error),
                attempts=PostRow.attempts + 1,
                gave_up=give_up,
                lease_owner=None,
                lease_until=retry_at,
            )
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def posts(self, run_id: int) -> list[PostRow]:
        return await self._fetch(PostRow, prepared.RUN_POSTS, {"p_run": run_id})

    async def question_for_thread(self, run_id: int, thread_id: str) -> str | None:
        # A reply under a question's own message counts too (Slack threads hang off any post).
        stmt = select(PostRow.question_id).where(
            PostRow.run_id == run_id,
            (PostRow.thread_id == thread_id) | (PostRow.message_id == thread_id),
            PostRow.kind == "question",
        )
        async with self.session() as s:
            return (await s.execute(stmt.limit(1))).scalar_one_or_none()
