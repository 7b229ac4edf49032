"""The recorder (bot/core/recorder.py) stores a burst exactly as the same messages one by one.

Messages submitted together land in one batch (one alone is a batch of one); these tests
check that duplicates are still
ignored, arrival order is kept, a reply to a message in the same batch inherits its question,
run changes are seen at once, failures are contained, and a caller returns only after commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import EVERY_CHAT_HOST, ChannelRef, IncomingMessage, ReactionChanged, User
from bot.core.plan import Plan
from bot.core.recorder import MessageRecorder
from bot.core.service import ChatService
from bot.core.store import RetryPolicy, Store, open_store
from tests.conftest import T0
from tests.fakes.port import FakePort
from tests.support import make_plan, message

FAST = RetryPolicy(attempts=4, first_delay=0.0, max_delay=0.0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Chat:
    """An engine, a service and a clock on one SQLite store."""

    def __init__(self, store: Store, *, plan: Plan | None = None) -> None:
        self.store = store
        self.clock = SimClock(T0.replace(hour=18))
        self.port = FakePort()
        self.engine = Engine(plan or make_plan(), store, lambda _: self.port, self.clock)
        self.service = ChatService(self.engine, retry=FAST)

    async def run_until(self, when: datetime) -> None:
        await self.engine.start()
        for _ in range(500):
            wake = await self.engine.tick()
            if wake is None or wake > when:
                break
            self.clock.set(max(wake, self.clock.now()))
        self.clock.set(when)
        await self.engine.tick()

    async def together(self, *events: IncomingMessage) -> list[bool]:
        """Deliver concurrently, so the recorder stores them in one transaction."""
        return list(await asyncio.gather(*(self.service.on_event(e) for e in events)))

    async def one_by_one(self, *events: IncomingMessage) -> list[bool]:
        return [await self.service.on_event(e) for e in events]

    async def stored(self) -> list[tuple[object, ...]]:
        runs = await self.store.runs_for_chat("tea")
        rows = await self.store.run_messages(runs[0].id or 0)
        return [
            (
                m.platform_message_id,
                m.user_id,
                m.kind,
                m.question_id,
                m.reason,
                m.fallback_question,
                m.thread_question,
                m.reply_to,
            )
            for m in sorted(rows, key=lambda m: m.id or 0)
        ]

    async def people(self) -> list[tuple[object, ...]]:
        runs = await self.store.runs_for_chat("tea")
        found = await self.store.participants(runs[0].id or 0)
        return sorted((p.user_id, p.messages, p.is_host, p.first_at, p.last_at) for p in found)


@pytest.fixture
async def stores(tmp_path: Path):
    one = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    batched = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'batched.db'}")
    yield one, batched
    await one.close()
    await batched.close()


def script(q1_thread: str | None) -> list[IncomingMessage]:
    """A burst covering every attribution rule, duplicates and messages that are not stored."""
    bot = IncomingMessage(
        "console", message("x", at(22)).channel, "bot1", User("b", "b", is_bot=True), "A1", at(22)
    )
    return [
        message("A1 parent", at(21), message_id="p1"),
        message("no label, replying", at(21.1), user="bob", message_id="r1", reply_to="p1"),
        message("reply to the reply", at(21.2), user="carol", message_id="r2", reply_to="r1"),
        message("reply to a stored one", at(21.3), user="dan", message_id="r3", reply_to="s1"),
        message("A3 label beats reply", at(21.4), user="erin", message_id="r4", reply_to="p1"),
        message("in Q1's thread", at(21.5), user="fay", message_id="t1", thread_id=q1_thread),
        message("plain", at(21.6), user="kate", message_id="h1"),  # the host
        message("A1 parent again", at(21.7), message_id="p1"),  # duplicate inside the batch
        message("stored before", at(21.8), message_id="s1"),  # duplicate of a stored one
        message("elsewhere", at(21.9), user="gus", message_id="o1", channel="random"),
        bot,
        message("A2 second from alice", at(22), message_id="p2", reply_to="nowhere"),
    ]


async def burst_equals_one_by_one(one_store: Store, batched_store: Store) -> None:
    plan = make_plan(threads="per-question")
    one = Chat(one_store, plan=plan)
    batched = Chat(batched_store, plan=plan)
    results = []
    for chat, deliver in ((one, Chat.one_by_one), (batched, Chat.together)):
        await chat.run_until(at(6))
        await chat.one_by_one(message("A1 stored before", at(7), user="zed", message_id="s1"))
        await chat.run_until(at(21))
        results.append(await deliver(chat, *script(chat.port.ref_of("Q1").thread_id)))
    assert results[0] == results[1]
    assert results[1] == [True] * 7 + [False] * 4 + [True]
    assert await one.stored() == await batched.stored()
    assert await one.people() == await batched.people()
    assert batched.service.recorder.batches <= 2  # the burst went in one transaction
    assert one.service.recorder.batches >= len(script(None)) - 1  # each alone (not the bot's)


async def test_a_burst_is_stored_exactly_as_one_by_one(stores: tuple[Store, Store]) -> None:
    await burst_equals_one_by_one(*stores)


async def test_a_platform_host_hint_makes_a_host_message_as_one_by_one(
    stores: tuple[Store, Store],
) -> None:
    """A person the platform marks as a host (a Discord host role), not in the plan's list."""
    hinted = User("rolehost", "rolehost", roles=frozenset({EVERY_CHAT_HOST}))
    kinds = []
    for store, deliver in zip(stores, (Chat.one_by_one, Chat.together), strict=True):
        chat = Chat(store)
        await chat.run_until(at(21))
        first = message("welcome all", at(21.1), message_id="w1")
        hint = IncomingMessage("console", first.channel, "w2", hinted, "A1 from the role", at(21.2))
        await deliver(chat, first, hint)
        kinds.append([(m[0], m[2]) for m in await chat.stored()])
    assert kinds[0] == kinds[1] == [("w1", "answer"), ("w2", "host")]


async def test_a_burst_is_stored_exactly_as_one_by_one_on_postgresql(
    postgres_url_factory: Callable[[], str],
) -> None:
    """PostgreSQL has its own writer (INSERT .. SELECT FROM unnest) and reply lookup."""
    one = await open_store(postgres_url_factory())
    batched = await open_store(postgres_url_factory())
    try:
        await burst_equals_one_by_one(one, batched)
    finally:
        await one.close()
        await batched.close()


async def test_a_reply_in_the_same_batch_inherits_its_parents_question(
    stores: tuple[Store, Store],
) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(21))  # Q2 is open
    await chat.together(
        message("A1 looking back", at(21), message_id="p1"),
        message("so true", at(21.1), user="bob", message_id="r1", reply_to="p1"),
        message("unrelated", at(21.2), user="carol", message_id="u1"),
    )
    stored = {row[0]: (row[3], row[4]) for row in await chat.stored()}
    assert stored == {"p1": ("Q1", "label"), "r1": ("Q1", "reply"), "u1": ("Q2", "open")}


async def test_arrival_order_is_kept_and_counts_add_up(stores: tuple[Store, Store]) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    burst = [
        message(f"A1 n{i}", at(6 + i / 100), user=f"u{i % 3}", message_id=f"m{i}")
        for i in range(30)
    ]
    assert await chat.together(*burst) == [True] * 30
    assert [row[0] for row in await chat.stored()] == [f"m{i}" for i in range(30)]
    assert [(p[0], p[1]) for p in await chat.people()] == [("u0", 10), ("u1", 10), ("u2", 10)]
    last = {p[0]: p[4] for p in await chat.people()}
    assert last["u2"] == at(6 + 29 / 100)
    assert await chat.together(*burst[:5]) == [False] * 5  # redelivered: ignored, not counted
    assert [(p[0], p[1]) for p in await chat.people()] == [("u0", 10), ("u1", 10), ("u2", 10)]


async def test_a_run_change_is_seen_by_the_next_batch(stores: tuple[Store, Store]) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    await chat.together(message("first", at(6), message_id="a"))
    await chat.run_until(at(21))  # Q2 went up: the cached run is stale
    await chat.together(message("second", at(21), message_id="b"))
    assert [(row[0], row[3]) for row in await chat.stored()] == [("a", "Q1"), ("b", "Q2")]


async def test_a_late_answer_still_updates_the_posted_recap(stores: tuple[Store, Store]) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    await chat.together(message("A1 on time", at(6)))
    await chat.run_until(at(61))
    assert chat.port.kinds()[-1] == "recap" and chat.port.updates == []
    assert await chat.together(message("A2 late", at(70), user="bob")) == [True]
    assert len(chat.port.updates) == 1


async def test_the_caller_returns_only_after_its_batch_is_committed(
    stores: tuple[Store, Store], tmp_path: Path
) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    log: list[str] = []
    batcher = chat.service.recorder
    assert isinstance(batcher, MessageRecorder)
    write = batcher.writer.write

    async def logged(conn, rows, runs, reactions=()):  # type: ignore[no-untyped-def]
        written = await write(conn, rows, runs, reactions)  # insert, upsert and commit
        log.append("commit")
        return written

    batcher.writer.write = logged  # type: ignore[method-assign]

    async def deliver(i: int) -> int:
        assert await chat.service.on_event(message(f"A1 {i}", at(6), message_id=f"d{i}"))
        log.append(f"returned {i}")
        # Visible to another connection the moment the caller is told it is stored.
        with sqlite3.connect(tmp_path / "batched.db") as other:
            found = other.execute(
                "SELECT count(*) FROM messages WHERE platform_message_id = ?", (f"d{i}",)
            ).fetchone()
        return int(found[0])

    assert await asyncio.gather(*(deliver(i) for i in range(5))) == [1] * 5
    assert log[0] == "commit"


async def test_a_reply_to_a_message_still_being_written_inherits_its_question(
    stores: tuple[Store, Store],
) -> None:
    chat = Chat(stores[1])
    batcher = chat.service.recorder
    assert isinstance(batcher, MessageRecorder)
    batcher.max_batch = 2  # four messages: the second pair is attributed while the first
    await chat.run_until(at(21))  # pair is written
    assert await chat.together(
        message("A1 looking back", at(21), message_id="p1"),
        message("unrelated", at(21.1), user="carol", message_id="u1"),
        message("so true", at(21.2), user="bob", message_id="r1", reply_to="p1"),
        message("A1 looking back", at(21.3), message_id="p1"),  # redelivered meanwhile
    ) == [True, True, True, False]
    stored = {row[0]: (row[3], row[4]) for row in await chat.stored()}
    assert stored == {"p1": ("Q1", "label"), "u1": ("Q2", "open"), "r1": ("Q1", "reply")}
    assert batcher.batches == 2


async def test_an_outage_fails_the_batch_and_every_caller_retries(
    stores: tuple[Store, Store],
) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    batcher = chat.service.recorder
    assert isinstance(batcher, MessageRecorder)
    real = batcher._store
    calls = 0

    async def flaky(ready):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return await real(ready)

    batcher._store = flaky  # type: ignore[method-assign]
    burst = [message(f"A1 {i}", at(6), message_id=f"o{i}") for i in range(4)]
    assert await chat.together(*burst) == [True] * 4
    assert [row[0] for row in await chat.stored()] == [f"o{i}" for i in range(4)]
    assert calls >= 2


async def test_a_message_that_cannot_be_stored_does_not_sink_its_batch(
    stores: tuple[Store, Store],
) -> None:
    chat = Chat(stores[1])
    await chat.run_until(at(6))
    batcher = chat.service.recorder
    assert isinstance(batcher, MessageRecorder)
    real = batcher._store

    async def picky(ready):  # type: ignore[no-untyped-def]
        if any(item.event.text == "poison" for item in ready.items):
            raise ValueError("cannot store this one")
        return await real(ready)

    batcher._store = picky  # type: ignore[method-assign]
    burst = [
        message("A1 fine", at(6), message_id="f1"),
        message("poison", at(6), message_id="bad"),
        message("A1 also fine", at(6), message_id="f2"),
    ]
    outcome = await asyncio.gather(
        *(chat.service.on_event(e) for e in burst), return_exceptions=True
    )
    assert outcome[0] is True and outcome[2] is True
    assert isinstance(outcome[1], ValueError)
    assert [row[0] for row in await chat.stored()] == ["f1", "f2"]


def reaction(message_id: str, user: str, emoji: str, minutes: float, *, added: bool = True):
    return ReactionChanged(
        "console",
        ChannelRef("teachat", "teachat"),
        message_id,
        User(user, user),
        emoji,
        added,
        at(minutes),
    )


def reaction_script() -> list[IncomingMessage | ReactionChanged]:
    """Reactions in the same burst as the messages they react to, taken back, given again,
    repeated, and aimed at a message chathost never stored."""
    return [
        message("A1 first", at(6), message_id="m1"),
        reaction("m1", "bob", "+1", 6.1),
        reaction("m1", "bob", "+1", 6.2),  # a repeated delivery changes nothing
        message("A1 second", at(6.3), user="bob", message_id="m2"),
        reaction("m2", "alice", "tada", 6.4),
        reaction("m2", "alice", "tada", 6.5, added=False),  # taken back ...
        reaction("m2", "carol", "heart", 6.6),
        reaction("m2", "alice", "tada", 6.7),  # ... and given again
        reaction("nowhere", "carol", "+1", 6.8),
        reaction("m1", "dan", "eyes", 6.9, added=False),  # never given
    ]


async def reactions_equal_one_by_one(one_store: Store, batched_store: Store) -> None:
    results, stored = [], []
    for store, deliver in ((one_store, Chat.one_by_one), (batched_store, Chat.together)):
        chat = Chat(store)
        await chat.run_until(at(6))
        results.append(await deliver(chat, *reaction_script()))
        run = (await store.runs_for_chat("tea"))[0]
        rows = await store.reactions_for_run(run.id or 0)
        ids = {m.id: m.platform_message_id for m in await store.run_messages(run.id or 0)}
        stored.append(sorted((ids[r.message_id], r.user_id, r.emoji) for r in rows))
    assert results[0] == results[1]
    assert results[1] == [True, True, False, True, True, True, True, True, False, False]
    assert stored[0] == stored[1]
    assert stored[1] == [("m1", "bob", "+1"), ("m2", "alice", "tada"), ("m2", "carol", "heart")]


async def test_reactions_in_a_burst_are_stored_as_one_by_one(stores: tuple[Store, Store]) -> None:
    await reactions_equal_one_by_one(*stores)


async def test_reactions_in_a_burst_are_stored_as_one_by_one_on_postgresql(
    postgres_url_factory: Callable[[], str],
) -> None:
    one = await open_store(postgres_url_factory())
    batched = await open_store(postgres_url_factory())
    try:
        await reactions_equal_one_by_one(one, batched)
    finally:
        await one.close()
        await batched.close()
