"""Ingest: replies through ChatService.on_event (attribution + durable storage) into a running
chat, at full speed and at a fixed offered load, against plain executemany of the same rows.

The chat is set up by the real Engine on a SimClock (questions Q1-Q3 posted, Q3 open, one
thread per question) and copied as a template, so every repeat starts from the same database.
Latency is measured from the moment an event is handed to the service (full speed) or from its
scheduled arrival time (offered load: open loop, so a slow store makes arrivals queue up and
shows in the figures instead of slowing the arrivals down) until ``on_event`` returns, which
with group commit is after the commit of the message's batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import ChannelRef, IncomingMessage, User
from bot.core.plan import Plan, parse_plan
from bot.core.ports import NothingToFind, Outgoing, PostedRef
from bot.core.service import ChatService
from bot.core.store import Store, open_store

START = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
CHANNEL = ChannelRef("bench", "bench")
PLAN_YAML = """
timezone: UTC
chats:
  - id: bench
    title: Bench Chat
    tag: "#bench"
    platform: console
    channel: bench
    threads: per-question
    hosts: [host0]
    schedule: {start: "2026-12-01 19:30", duration: 1h}
    questions:
      - {id: Q1, at: 5m, text: "What brought you here?"}
      - {id: Q2, at: 15m, text: "What is hard about it?"}
      - {id: Q3, at: 25m, text: "What helps?"}
      - {id: Q4, at: 35m, text: "What will you try?"}
      - {id: Q5, at: 45m, text: "Who inspires you?"}
"""
WORDS = [
    *("trust", "reflection", "notes", "culture", "blame", "drafts", "fear", "team", "tools"),
    *("practice", "feedback", "learning", "curiosity", "sharing", "safety", "mentors"),
    *("habits", "coffee", "writing", "questions"),
]
# Where the ingested messages arrive: Q3 is open, Q1-Q3 have threads.
OPEN_AT = START + timedelta(minutes=26)


def plan() -> Plan:
    return parse_plan(PLAN_YAML)


class NullPort(NothingToFind):
    """A platform that accepts every post at once (the engine only sets the chat up here)."""

    def __init__(self) -> None:
        self.count = 0
        self.refs: dict[str, PostedRef] = {}

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        self.count += 1
        ts = f"p{self.count}"
        ref = PostedRef(channel, ts, ts if start_thread else None)
        if message.question_id:
            self.refs[message.question_id] = ref
        return ref

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self.count += 1
        return PostedRef(f"@{user.id}", f"d{self.count}")

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        return None

    async def member_count(self, channel: str) -> int | None:
        return None


def service_for(store: Store) -> ChatService:
    """The service of a process joining the chat: the run is in the database already."""
    engine = Engine(plan(), store, lambda _: NullPort(), SimClock(OPEN_AT))
    return ChatService(engine)


async def set_up_chat(url: str) -> str | None:
    """Create the schema and run the chat up to Q3 (open); Q1's thread id."""
    store = await open_store(url)
    try:
        clock = SimClock(START - timedelta(hours=1))
        port = NullPort()
        engine = Engine(plan(), store, lambda _: port, clock)
        await engine.start()
        for _ in range(200):
            wake = await engine.tick()
            if wake is None or wake > OPEN_AT:
                break
            clock.set(max(wake, clock.now()))
        clock.set(OPEN_AT)
        await engine.tick()
        q1 = port.refs.get("Q1")
        return q1.thread_id if q1 else None
    finally:
        await store.close()


def make_events(
    n: int, thread_id: str | None, *, seed: int = 7, prefix: str = "m"
) -> list[IncomingMessage]:
    """``n`` replies from 400 people: 70% labelled, 10% replies to a recent message, 10% in
    Q1's thread, the rest unlabelled (the open question); 1 in 100 from the host."""
    rng = random.Random(seed)
    users = [User(f"u{i}", f"user{i}") for i in range(400)]
    host = User("host0", "host0")
    events = []
    for i in range(n):
        roll = rng.random()
        text = " ".join(rng.choices(WORDS, k=8))
        reply_to = thread = None
        if roll < 0.7:
            text = f"A{rng.randint(1, 5)} {text}"
        elif roll < 0.8 and i > 0:
            reply_to = f"{prefix}{rng.randint(max(0, i - 500), i - 1)}"
        elif roll < 0.9:
            thread = thread_id
        user = host if rng.random() < 0.01 else rng.choice(users)
        at = OPEN_AT + timedelta(seconds=30 * 60 * i / max(n, 1))
        events.append(
            IncomingMessage("console", CHANNEL, f"{prefix}{i}", user, text, at, thread, reply_to)
        )
    return events


@dataclass(frozen=True)
class Outcome:
    seconds: float
    latencies: list[float]
    stored: int
    batches: int

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


async def full_speed(
    service: ChatService, events: Sequence[IncomingMessage], producers: int
) -> Outcome:
    """``producers`` tasks hand events to the service as fast as it takes them."""
    latencies: list[float] = []
    stored = 0
    feed = iter(events)

    async def producer() -> None:
        nonlocal stored
        clock = time.perf_counter
        for event in feed:
            began = clock()
            ok = await service.on_event(event)
            latencies.append(clock() - began)
            stored += ok

    started = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(producers)))
    seconds = time.perf_counter() - started
    return Outcome(seconds, latencies, stored, _batches(service))


async def offered_load(
    service: ChatService, events: Sequence[IncomingMessage], per_second: float, start: float
) -> Outcome:
    """Open loop: event ``i`` arrives at ``start + i / per_second`` (time.monotonic) whatever
    happened to the ones before; latency counts from that scheduled arrival."""
    latencies: list[float] = []
    stored = 0
    tasks: set[asyncio.Task[None]] = set()  # only those in flight: done ones are let go

    async def deliver(event: IncomingMessage, due: float) -> None:
        nonlocal stored
        ok = await service.on_event(event)
        latencies.append(time.monotonic() - due)
        stored += ok

    i, n = 0, len(events)
    while i < n:
        now = time.monotonic()
        due = start + i / per_second
        if due > now:
            await asyncio.sleep(due - now)
            continue
        while i < n and (due := start + i / per_second) <= now:
            task = asyncio.create_task(deliver(events[i], due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
    while tasks:
        await asyncio.gather(*list(tasks))
    seconds = time.monotonic() - start
    return Outcome(seconds, latencies, stored, _batches(service))


def _batches(service: ChatService) -> int:
    return service.recorder.batches


# SQLite


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def sqlite_template(folder: Path) -> tuple[Path, str | None]:
    path = folder / "template.db"
    thread = await set_up_chat(sqlite_url(path))
    return path, thread


async def sqlite_ingest(
    template: Path,
    target: Path,
    events: Sequence[IncomingMessage],
    *,
    producers: int = 0,
    per_second: float = 0.0,
) -> Outcome:
    """One measured ingest into a fresh copy of the template (closed loop unless a rate)."""
    shutil.copyfile(template, target)
    store = await open_store(sqlite_url(target))
    try:
        service = service_for(store)
        await warm_up(service)
        with harness_out_of_gc():
            if per_second:
                return await offered_load(service, events, per_second, time.monotonic() + 0.05)
            return await full_speed(service, events, producers)
    finally:
        await store.close()


@contextlib.contextmanager
def harness_out_of_gc() -> Iterator[None]:
    """Move what exists now (the pre-built events, the harness) out of the collector's sight
    for the measurement: a bot does not hold 100,000 events, and walking them in a full
    collection pauses everything for 100+ ms. The collector stays on for the bot's objects."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def warm_up(service: ChatService) -> None:
    """A few replies before the clock starts: opens the pool's connections (the recorder
    attributes one batch while another commits) and prepares the statements."""
    user = User("warm-up", "warm-up")
    await asyncio.gather(
        *(
            service.on_event(
                IncomingMessage("console", CHANNEL, f"warm-up-{i}", user, "hello", OPEN_AT)
            )
            for i in range(20)
        )
    )


MESSAGE_COLUMNS = (
    "run_id, platform, channel_id, platform_message_id, user_id, user_name, text, "
    "original_text, kind, question_id, reason, fallback_question, thread_question, thread_id, "
    "reply_to, created_at, received_at, edited_at, edit_count, deleted_at"
)
PARTICIPANT_UPSERT = (
    "INSERT INTO participants (run_id, user_id, user_name, is_host, first_at, last_at, messages)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, user_id) DO UPDATE SET"
    " messages = messages + excluded.messages, last_at = max(last_at, excluded.last_at)"
)


def stored_rows(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The message rows an ingest stored (as the database holds them) and its participants."""
    with sqlite3.connect(db) as conn:
        messages = conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY id").fetchall()
        people = conn.execute(
            "SELECT run_id, user_id, user_name, is_host, first_at, last_at, messages"
            " FROM participants"
        ).fetchall()
    return messages, people


def sqlite_baseline(
    template: Path,
    target: Path,
    messages: Sequence[tuple[object, ...]],
    people: Sequence[tuple[object, ...]],
) -> float:
    """The storage limit: the same rows, plain sqlite3 executemany, one transaction, the
    bot's pragmas (WAL, synchronous=NORMAL, foreign keys on). Seconds."""
    shutil.copyfile(template, target)
    conn = sqlite3.connect(target)
    try:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        marks = ", ".join("?" * len(MESSAGE_COLUMNS.split(",")))
        started = time.perf_counter()
        with conn:
            conn.executemany(f"INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({marks})", messages)
            conn.executemany(PARTICIPANT_UPSERT, people)
        return time.perf_counter() - started
    finally:
        conn.close()
