"""Async scale: many async chats open at once in one process, driven by the real Engine.

An async chat runs for days, so the clock is a sped-up one: one simulated day passes in
``day_seconds`` of wall time. Every chat has seven questions, each open for a day, several
at once; reminders before each close; a daily digest; and answers trickling in from a few
people per chat through ChatService (the recorder's group commit), as in production. A driver
loop does what bot.scheduling.Waker does (tick, sleep until the engine's next wake time, tick
again). Lateness is the wall time at which the port receives a question, a closing note, a
reminder or a digest minus the wall time its simulated due time came round.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.scale import AcceptingPort, ShiftedClock, peak_rss_mb, run_alone
from bot.core.agenda import FULL_PASS
from bot.core.engine import Engine
from bot.core.events import ChannelRef, IncomingMessage, User
from bot.core.plan import Chat, Plan, parse_plan
from bot.core.ports import Outgoing, PostedRef
from bot.core.service import ChatService
from bot.core.store import open_store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SET_UP_AT = T0 - timedelta(hours=1)
DAY = timedelta(days=1)
OPEN_FOR = DAY
BEFORE_CLOSE = timedelta(hours=6)


def digest_at(i: int, chats: int) -> str:
    """Chat ``i``'s digest time: communities pick theirs (and live in different zones), so
    the digests of a thousand chats are spread over the day rather than all at 17:00."""
    minutes = (17 * 60 + 1440 * i // chats) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class AsyncScenario:
    chats: int = 1000
    questions: int = 7
    days: int = 3  # each chat's length
    day_seconds: float = 40.0  # wall seconds per simulated day
    spread_hours: float = 12.0  # chat starts spread over this much simulated time
    people: int = 3  # per chat; each answers about half the questions


def async_plan(s: AsyncScenario) -> Plan:
    step = (s.days * 24 - 24) / max(s.questions - 1, 1)  # the last closes at the end
    questions = ", ".join(
        f'{{id: Q{q + 1}, at: {step * q:g}h, open_for: 1d, text: "Question {q + 1}?"}}'
        for q in range(s.questions)
    )
    lines = ["timezone: UTC", "chats:"]
    for i in range(s.chats):
        start = T0 + timedelta(hours=s.spread_hours * i / s.chats)
        lines.append(
            f"  - {{id: a{i:04d}, title: Slow {i}, mode: async, platform: console,"
            f" channel: ch{i}, hosts: [host{i}], schedule: {{start: '{start:%Y-%m-%d %H:%M:%S}',"
            f" duration: {s.days}d}}, questions: [{questions}],"
            f" reminders: {{before_close: 6h, max_per_person: 2}},"
            f" digest: {{at: '{digest_at(i, s.chats)}'}}, summary: {{late_window: 1d}}}}"
        )
    return parse_plan("\n".join(lines))


def answers(plan: Plan, s: AsyncScenario, seed: int = 7) -> list[IncomingMessage]:
    """Each person answers about half the questions, at a random time in its first half."""
    rng = random.Random(seed)
    found = []
    for chat in plan.chats:
        assert chat.schedule.start is not None
        start = chat.schedule.start.replace(tzinfo=UTC)
        for p in range(s.people):
            user = User(f"{chat.id}-p{p}", f"person{p}")
            for q in chat.questions:
                if rng.random() < 0.5 and q.id != "Q1":
                    continue  # everyone answers Q1, so everyone takes part early
                at = start + q.at + timedelta(hours=rng.uniform(0.1, 11.0))
                found.append(
                    IncomingMessage(
                        "console",
                        ChannelRef(chat.channel, chat.channel),
                        f"{user.id}-{q.id}",
                        user,
                        f"A{q.number} answer of {user.name}",
                        at,
                    )
                )
    return sorted(found, key=lambda m: m.at)


@dataclass
class LatenessPort(AcceptingPort):
    """Accepts everything at once; records how late each timed message arrived."""

    plan: Plan
    clock: ShiftedClock
    lateness: dict[str, list[float]] = field(default_factory=dict)
    sent: int = 0

    def __post_init__(self) -> None:
        self.chats: dict[str, Chat] = {c.channel: c for c in self.plan.chats}
        self.by_title: dict[str, Chat] = {c.title: c for c in self.plan.chats}

    def _due(self, chat: Chat, message: Outgoing) -> datetime | None:
        assert chat.schedule.start is not None
        start = chat.schedule.start.replace(tzinfo=UTC)
        question = chat.question(message.question_id or "")
        if message.kind == "question" and question is not None:
            return start + question.at
        if message.kind == "close" and question is not None:
            return start + question.at + OPEN_FOR
        if message.kind == "reminder" and question is not None:
            return start + question.at + OPEN_FOR - BEFORE_CLOSE
        if message.kind == "digest" and chat.digest is not None:
            at = self.clock.now()
            wanted = chat.digest.time
            due = at.replace(hour=wanted.hour, minute=wanted.minute, second=0, microsecond=0)
            return due if due <= at else due - DAY
        return None

    def _record(self, chat: Chat, message: Outgoing) -> None:
        self.sent += 1
        due = self._due(chat, message)
        if due is not None:
            late = time.monotonic() - self.clock.wall(due)
            self.lateness.setdefault(message.kind, []).append(late)

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        self._record(self.chats[channel], message)
        return PostedRef(channel, f"p{self.sent}")

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self._record(self.by_title[message.chat_title], message)
        return PostedRef(f"@{user.id}", f"d{self.sent}")


@dataclass(frozen=True)
class AsyncOutcome:
    lateness: dict[str, list[float]]
    expected_questions: int
    answers: int
    ticks: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    sent: int


async def _feed(service: ChatService, clock: ShiftedClock, replies: list[IncomingMessage]) -> None:
    """Hand each answer to the service when its simulated time comes, as a platform would."""
    for reply in replies:
        delay = clock.wall(reply.at) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await service.on_event(reply)


async def run_async_scale(db: Path, s: AsyncScenario) -> AsyncOutcome:
    plan = async_plan(s)
    replies = answers(plan, s)
    gc.collect()
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    try:
        clock = ShiftedClock(SET_UP_AT, 86400 / s.day_seconds)
        port = LatenessPort(plan, clock)
        engine = Engine(plan, store, lambda _: port, clock)
        # A full pass (every open run read) comes every FULL_PASS of the engine's clock: on
        # this sped-up one, every FULL_PASS of wall time, as in production.
        engine.agenda.full_pass = FULL_PASS * clock.factor
        service = ChatService(engine)
        await engine.start()
        await engine.tick()  # creates every run
        clock.start(T0 - timedelta(minutes=10))
        feeding = asyncio.create_task(_feed(service, clock, replies))
        cpu = time.process_time()
        last = T0 + timedelta(hours=s.spread_hours, days=s.days, minutes=30)
        ticks = 0
        while clock.now() < last:
            wake = await engine.tick()
            ticks += 1
            if wake is None:
                break
            delay = (wake - clock.now()).total_seconds() / clock.factor
            if delay > 0:
                await asyncio.sleep(min(delay, 15.0))  # the Waker's heartbeat is 15 s
        await feeding
        seconds = time.monotonic() - (clock.started or 0.0)
        cpu = time.process_time() - cpu
    finally:
        await store.close()
    return AsyncOutcome(
        port.lateness,
        s.chats * s.questions,
        len(replies),
        ticks,
        seconds,
        peak_rss_mb(),
        cpu,
        port.sent,
    )


def run_async_scale_alone(db: Path, s: AsyncScenario) -> AsyncOutcome:
    """In a fresh process, so its peak memory is its own."""
    return run_alone(run_async_scale, db, s)


def summary(o: AsyncOutcome) -> str:
    """The figures of a run, one line per kind of timed message, then the totals."""
    lines = []
    for kind, values in sorted(o.lateness.items()):
        ordered = sorted(values)
        p50 = ordered[len(ordered) // 2] * 1000
        p99 = ordered[int(0.99 * (len(ordered) - 1))] * 1000
        lines.append(f"{kind}: {len(ordered)}, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    lines.append(
        f"answers {o.answers}, ticks {o.ticks}, {o.seconds:.0f} s, peak {o.peak_rss_mb:.0f} MB,"
        f" CPU {o.cpu_seconds:.1f} s, sent {o.sent}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile

    chats = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    day_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 40.0
    with tempfile.TemporaryDirectory() as tmp:
        scenario = AsyncScenario(chats=chats, day_seconds=day_seconds)
        print(summary(run_async_scale_alone(Path(tmp) / "a.db", scenario)))
