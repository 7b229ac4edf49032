"""Scale: many chats running at once in one process, driven by the real Engine.

A real clock, shifted: set-up (recording the plan, creating the runs) happens with the clock
held before the first start; then the clock runs at wall-clock speed and the first chat starts
two seconds later. Chat starts are spread evenly over ``spread`` seconds and each chat posts
its questions ``gap`` seconds apart, so questions fall due all the time, as with many chats
that happen to overlap. A driver loop does what bot.scheduling.Waker does (tick, sleep until
the engine's next wake time, tick again); lateness is the wall time at which the platform port
receives a question minus the question's due time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import resource
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.core.engine import Engine
from bot.core.events import User
from bot.core.plan import Plan, parse_plan
from bot.core.ports import NothingToFind, Outgoing, PostedRef
from bot.core.store import open_store

T = TypeVar("T")
T0 = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
SET_UP_AT = T0 - timedelta(minutes=5)


class ShiftedClock:
    """Holds ``at`` until ``start()``, then moves with the wall clock (time.monotonic),
    ``factor`` times as fast (an async chat's days pass in minutes)."""

    def __init__(self, at: datetime, factor: float = 1.0) -> None:
        self._anchor = at
        self.factor = factor
        self.started: float | None = None

    def start(self, at: datetime) -> None:
        self._anchor = at
        self.started = time.monotonic()

    def now(self) -> datetime:
        if self.started is None:
            return self._anchor
        return self._anchor + timedelta(seconds=(time.monotonic() - self.started) * self.factor)

    def wall(self, at: datetime) -> float:
        """The monotonic time at which the clock shows ``at`` (once started)."""
        assert self.started is not None
        return self.started + (at - self._anchor).total_seconds() / self.factor


@dataclass
class Scenario:
    chats: int = 1000
    questions: int = 10
    gap: float = 15.0  # seconds between a chat's questions
    spread: float = 60.0  # seconds over which the chats' starts are spread


def scaled_plan(s: Scenario) -> Plan:
    lines = ["timezone: UTC", "chats:"]
    questions = ", ".join(
        f'{{id: Q{q}, at: {int(s.gap * q)}, text: "Question {q}?"}}'
        for q in range(1, s.questions + 1)
    )
    duration = int(s.gap * (s.questions + 1))
    for i in range(s.chats):
        start = T0 + timedelta(seconds=s.spread * i / s.chats)
        lines.append(
            f"  - {{id: c{i:04d}, title: Chat {i}, platform: console, channel: ch{i},"
            f" hosts: [host{i}], schedule: {{start: '{start:%Y-%m-%d %H:%M:%S.%f}',"
            f" duration: {duration}}}, questions: [{questions}]}}"
        )
    return parse_plan("\n".join(lines))


class AcceptingPort(NothingToFind):
    """A platform that takes every update and cannot count members: the benches' ports."""

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        return None

    async def member_count(self, channel: str) -> int | None:
        return None


class LatenessPort(AcceptingPort):
    """Accepts every post at once; records how late each question arrived."""

    def __init__(self, plan: Plan) -> None:
        self.due: dict[tuple[str, str], float] = {}
        for chat in plan.chats:
            assert chat.schedule.start is not None
            start = chat.schedule.start.replace(tzinfo=UTC)
            for q in chat.questions:
                self.due[(chat.channel, q.id)] = (start + q.at - T0).total_seconds()
        self.started: float = 0.0  # time.monotonic() at T0
        self.lateness: list[float] = []
        self.posts = 0

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        self.posts += 1
        if message.kind == "question" and message.question_id:
            due = self.started + self.due[(channel, message.question_id)]
            self.lateness.append(time.monotonic() - due)
        return PostedRef(channel, f"p{self.posts}")

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self.posts += 1
        return PostedRef(f"@{user.id}", f"d{self.posts}")


@dataclass(frozen=True)
class ScaleOutcome:
    lateness: list[float]
    expected: int
    ticks: int
    seconds: float
    peak_rss_mb: float
    peak_traced_mb: float
    set_up_seconds: float
    cpu_seconds: float  # this process's CPU time while the chats ran
    posts: int


async def run_scale(db: Path, s: Scenario, *, trace: bool = False) -> ScaleOutcome:
    """Run every chat to its end; lateness of each question, ticks, peak memory."""
    plan = scaled_plan(s)
    gc.collect()
    if trace:
        tracemalloc.start()
    store = await open_store(f"sqlite+aiosqlite:///{db}")
    try:
        clock = ShiftedClock(SET_UP_AT)
        port = LatenessPort(plan)
        engine = Engine(plan, store, lambda _: port, clock)
        began = time.monotonic()
        await engine.start()
        await engine.tick()  # creates every run
        set_up = time.monotonic() - began
        clock.start(T0 - timedelta(seconds=2))
        port.started = time.monotonic() + 2.0
        cpu = time.process_time()
        end = s.spread + s.gap * (s.questions + 1) + 2.0
        ticks = 0
        while True:
            wake = await engine.tick()
            ticks += 1
            if len(port.lateness) >= len(port.due) and time.monotonic() - port.started > end:
                break
            if wake is None:
                break
            delay = (wake - clock.now()).total_seconds()
            if delay > 0:
                await asyncio.sleep(min(delay, 15.0))  # the Waker's heartbeat is 15 s
        seconds = time.monotonic() - port.started
        cpu = time.process_time() - cpu
    finally:
        await store.close()
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    if trace:
        tracemalloc.stop()
    rss = peak_rss_mb()
    return ScaleOutcome(
        port.lateness, len(port.due), ticks, seconds, rss, traced, set_up, cpu, port.posts
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (Linux), else ru_maxrss.

    VmHWM belongs to the program now running; ru_maxrss survives exec on Linux, so a child
    started from a large parent would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_scale_alone(db: Path, s: Scenario) -> ScaleOutcome:
    """``run_scale`` in a fresh process, so its peak memory is its own (the other
    benchmarks, run before it in this process, would raise the high-water mark)."""
    return run_alone(run_scale, db, s)


def run_alone(bench: Callable[..., Awaitable[T]], *args: object) -> T:
    """``bench(*args)`` run to its end in a fresh process (spawned: nothing inherited)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_run_sync, bench, *args).result()


def _run_sync(bench: Callable[..., Awaitable[T]], *args: object) -> T:
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(bench(*args))
