"""The Store behaves the same on SQLite and PostgreSQL: time zones, booleans, conflicts,
compare-and-set, leases, and what two stores (two processes) racing on one database get."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from bot.core.ports import PostedRef
from bot.core.store import MessageRow, PostClaim, RunRow, Store, open_store
from tests.conftest import T0
from tests.support import chat_of, make_plan

CHAT = chat_of(make_plan())
START, END = T0, T0 + timedelta(hours=1)


async def new_run(store: Store) -> RunRow:
    await store.upsert_chat(CHAT)
    return await store.ensure_run(CHAT, START, END)


def msg(run: RunRow, mid: str, user: str, at: datetime, text: str = "A1 hello") -> MessageRow:
    return MessageRow(
        run_id=run.id or 0,
        platform="console",
        channel_id="teachat",
        platform_message_id=mid,
        user_id=user,
        user_name=user,
        text=text,
        reason="label",
        question_id="Q1",
        created_at=at,
        received_at=at,
    )


async def test_datetimes_come_back_aware_utc_to_the_microsecond(any_store: Store) -> None:
    run = await new_run(any_store)
    assert run.scheduled_start == START and run.scheduled_start.tzinfo is UTC
    ahead = timezone(timedelta(hours=5, minutes=30))
    odd = datetime(2026, 12, 1, 21, 0, 0, 123456, tzinfo=ahead)  # 15:30:00.123456 UTC
    changed = await any_store.update_run(run, started_at=odd)
    assert changed is not None
    stored = await any_store.get_run(run.id or 0)
    assert stored is not None and stored.started_at == odd
    assert stored.started_at.utcoffset() == timedelta(0)
    assert stored.started_at.microsecond == 123456
    # A naive datetime is ambiguous: refused rather than guessed.
    with pytest.raises(StatementError, match="naive"):
        await any_store.update_run(stored, ended_at=datetime(2026, 12, 1, 20, 0))


async def test_ensure_run_is_created_once_by_racing_stores(any_store: Store, db_url: str) -> None:
    other = await open_store(db_url)
    try:
        await any_store.upsert_chat(CHAT)
        runs = await asyncio.gather(
            *(s.ensure_run(CHAT, START, END) for s in [any_store, other] * 4)
        )
        assert len({r.id for r in runs}) == 1
        assert len(await any_store.all_runs()) == 1
    finally:
        await other.close()


async def test_of_two_stores_acting_on_one_stale_view_exactly_one_wins(
    any_store: Store, db_url: str
) -> None:
    other = await open_store(db_url)
    try:
        run = await new_run(any_store)
        claim = PostClaim("intro", "intro", START)
        results = await asyncio.gather(
            any_store.transition(run, {"state": "running", "started_at": START}, claim),
            other.transition(run, {"state": "running", "started_at": START}, claim),
            any_store.transition(run, {"state": "missed"}),
            other.update_run(run, state="missed"),
        )
        winners = [r for r in results if (r[0] if isinstance(r, tuple) else r) is not None]
        assert len(winners) == 1
        stored = await any_store.get_run(run.id or 0)
        assert stored is not None and stored.version == run.version + 1
        posts = await any_store.posts(run.id or 0)
        assert len(posts) == (1 if stored.state == "running" else 0)
        # A second claim of the same key, even after a winning transition, is refused.
        assert await other.claim_post(run.id or 0, PostClaim("intro", "intro", START)) is None
        assert (await any_store.update_run(run, state="ended")) is None  # stale version
    finally:
        await other.close()


async def test_delivery_lease_has_one_holder(any_store: Store, db_url: str) -> None:
    other = await open_store(db_url)
    try:
        run = await new_run(any_store)
        now = START
        claim = PostClaim("intro", "intro", now, owner="a", lease_until=now + timedelta(seconds=15))
        _, post = await any_store.transition(run, {"state": "running"}, claim)
        assert post is not None and post.lease_owner == "a"
        assert post.lease_until == now + timedelta(seconds=15)
        # Held: nobody else may take it before it runs out.
        assert await other.lease_post(post.id or 0, "b", now, now + timedelta(seconds=15)) is None
        assert await any_store.renew_post_lease(post.id or 0, "a", now + timedelta(seconds=30))
        assert not await other.renew_post_lease(post.id or 0, "b", now + timedelta(seconds=30))
        later = now + timedelta(seconds=31)
        taken = await asyncio.gather(
            *(
                s.lease_post(post.id or 0, name, later, later + timedelta(seconds=15))
                for s, name in [(any_store, "c"), (other, "d"), (any_store, "e"), (other, "f")]
            )
        )
        holders = [t.lease_owner for t in taken if t is not None]
        assert len(holders) == 1
        assert not await any_store.renew_post_lease(post.id or 0, "a", later)  # a lost it
        await other.mark_posted(post.id or 0, PostedRef("teachat", "m1"), later)
        assert await any_store.pending_posts() == []
        done = await any_store.get_post(post.id or 0)
        assert done is not None and done.lease_owner is None and done.posted_at == later
        far = later + timedelta(hours=1)
        assert await any_store.lease_post(post.id or 0, "g", far, far) is None  # posted
    finally:
        await other.close()


async def test_failed_posts_wait_their_back_off_and_flags_filter(any_store: Store) -> None:
    run = await new_run(any_store)
    _, post = await any_store.transition(
        run, {"state": "running"}, PostClaim("intro", "intro", START)
    )
    assert post is not None
    skipped = await any_store.claim_post(
        run.id or 0, PostClaim("question:Q1", "question", START, "Q1", skipped=True)
    )
    assert skipped is not None and skipped.skipped is True
    retry_at = START + timedelta(seconds=5)
    await any_store.mark_post_failed(post, "HTTP 503", give_up=False, retry_at=retry_at)
    [pending] = await any_store.pending_posts()  # the skipped one is never pending
    assert (pending.attempts, pending.lease_until, pending.error) == (1, retry_at, "HTTP 503")
    assert await any_store.lease_post(post.id or 0, "x", START, retry_at) is None
    assert await any_store.lease_post(post.id or 0, "x", retry_at, retry_at) is not None
    await any_store.mark_post_failed(pending, "channel_not_found", give_up=True)
    assert await any_store.pending_posts() == []


async def test_messages_participants_and_reactions(any_store: Store) -> None:
    run = await new_run(any_store)
    first = await any_store.add_message(msg(run, "m1", "alice", START), is_host=False)
    assert first is not None and first.id is not None
    assert await any_store.add_message(msg(run, "m1", "alice", START), is_host=False) is None
    # Out of order delivery: last_at stays the latest.
    later = START + timedelta(minutes=9)
    await any_store.add_message(msg(run, "m2", "alice", later), is_host=False)
    await any_store.add_message(
        msg(run, "m3", "alice", START + timedelta(minutes=2)), is_host=False
    )
    [alice] = await any_store.participants(run.id or 0)
    assert (alice.messages, alice.first_at, alice.last_at, alice.is_host) == (
        3,
        START,
        later,
        False,
    )
    assert await any_store.add_reaction(first.id, "bob", "bob", "👍", later)
    assert not await any_store.add_reaction(first.id, "bob", "bob", "👍", later)
    assert await any_store.remove_reaction(first.id, "bob", "👍")
    assert not await any_store.remove_reaction(first.id, "bob", "👍")
    assert await any_store.count_messages(run.id or 0) == 3


async def test_nudge_claims_leases_and_delivery(any_store: Store, db_url: str) -> None:
    other = await open_store(db_url)
    try:
        run = await new_run(any_store)
        lease = START + timedelta(seconds=15)
        claims = await asyncio.gather(
            any_store.claim_nudge(run.id or 0, "alice", 1, "Q1", "dm", START, lease_until=lease),
            other.claim_nudge(run.id or 0, "alice", 1, "Q1", "dm", START, lease_until=lease),
        )
        assert sorted(c is not None for c in claims) == [False, True]
        [pending] = await any_store.pending_nudges(3)
        assert await other.lease_nudge(pending.id or 0, START, lease) is None  # still held
        assert await other.lease_nudge(pending.id or 0, lease, lease + timedelta(seconds=15))
        await any_store.mark_nudge_failed(pending.id or 0, lease + timedelta(seconds=5))
        [again] = await any_store.pending_nudges(3)
        assert again.attempts == 1
        assert await other.renew_nudge_lease(again.id or 0, lease + timedelta(seconds=30))
        await any_store.mark_nudge_delivered(again.id or 0, lease)
        assert await any_store.pending_nudges(3) == []
        assert not await other.renew_nudge_lease(again.id or 0, lease + timedelta(seconds=60))
        # The release-1 way (no lease) counts as delivered at once.
        assert await any_store.claim_nudge(run.id or 0, "bob", 1, "Q1", "dm", START)
        assert await any_store.pending_nudges(3) == []
        await any_store.claim_nudge(run.id or 0, "carol", 1, "Q1", "dm", START, lease_until=lease)
        [carol] = await any_store.pending_nudges(3)
        await any_store.mark_nudge_failed(carol.id or 0, None)  # abandoned
        assert await any_store.pending_nudges(3) == []
        assert [n.user_id for n in await any_store.nudges(run.id or 0)] == [
            "alice",
            "bob",
            "carol",
        ]
    finally:
        await other.close()


async def test_quiet_preferences_and_booleans(any_store: Store) -> None:
    await any_store.set_quiet("slack", "U1", True, START)
    await any_store.set_quiet("slack", "U2", True, START)
    await any_store.set_quiet("slack", "U2", False, START)
    await any_store.set_quiet("discord", "U1", True, START)
    assert await any_store.quiet_users("slack") == {"U1"}


async def test_per_chat_thread_is_recorded_with_the_intro(any_store: Store) -> None:
    run = await new_run(any_store)
    new_run_row, post = await any_store.transition(
        run, {"state": "running"}, PostClaim("intro", "intro", START)
    )
    assert new_run_row is not None and post is not None
    ref = PostedRef("teachat", "m1", "thread-1")
    await any_store.mark_posted(post.id or 0, ref, START, run_thread=True)
    stored = await any_store.get_run(run.id or 0)
    assert stored is not None and stored.thread_id == "thread-1"
    assert stored.version == new_run_row.version + 1  # stale views elsewhere must re-read
    assert await any_store.question_for_thread(run.id or 0, "thread-1") is None
