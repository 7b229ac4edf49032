"""Several engines on one database in one test process: each with its own Store (its own
connection pool, as a separate process would have) and its own port, on a shared SimClock.

A "process" dies the way SIGKILL kills one: ``ProcessDied`` (a BaseException, so the engine's
error handling cannot catch it) leaves the database exactly as it was at that instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.clock import SimClock
from bot.core.engine import CLAIM_LEASE, Engine
from bot.core.events import User
from bot.core.plan import Plan
from bot.core.ports import Outgoing, PostedRef
from bot.core.service import ChatService
from bot.core.store import Store, open_store
from tests.fakes.port import FakePort, Sent


class ProcessDied(BaseException):
    """The process is gone: nothing after this line of its code runs."""


class DyingPort(FakePort):
    """A FakePort that kills its process when asked to send a given thing."""

    def __init__(self, die_on: set[str]) -> None:
        super().__init__()
        # Shared by all workers: the first to send one of these dies ("question:Q2",
        # "nudge:alice", "intro"); whoever takes the post over later sends it normally.
        self.die_on = die_on
        self.hold: asyncio.Event | None = None  # set: deliveries wait for it (a slow platform)

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        self._maybe_die(message, message.mention.id if message.mention else "")
        if self.hold is not None:
            await self.hold.wait()
        return await super().post(channel, message, thread_id=thread_id, start_thread=start_thread)

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self._maybe_die(message, user.id)
        return await super().send_dm(user, message)

    def _maybe_die(self, message: Outgoing, user_id: str) -> None:
        key = f"question:{message.question_id}" if message.kind == "question" else message.kind
        if message.kind == "nudge":
            key = f"nudge:{user_id}"
        if key in self.die_on:
            self.die_on.discard(key)
            raise ProcessDied(key)


@dataclass
class Worker:
    name: str
    store: Store
    engine: Engine
    port: DyingPort
    service: ChatService
    alive: bool = True
    wake: datetime | None = None


@dataclass
class Cluster:
    url: str
    plan: Plan
    clock: SimClock
    workers: list[Worker] = field(default_factory=list)
    die_on: set[str] = field(default_factory=set)

    async def add(self, name: str, lease: timedelta = CLAIM_LEASE) -> Worker:
        store = await open_store(self.url)
        port = DyingPort(self.die_on)
        engine = Engine(
            self.plan, store, lambda _: port, self.clock, worker_id=name, claim_lease=lease
        )
        await engine.start()
        worker = Worker(name, store, engine, port, ChatService(engine))
        self.workers.append(worker)
        return worker

    @property
    def alive(self) -> list[Worker]:
        return [w for w in self.workers if w.alive]

    async def tick(self) -> None:
        """All live workers tick at the same instant, concurrently, as separate processes."""
        results = await asyncio.gather(
            *(w.engine.tick() for w in self.alive), return_exceptions=True
        )
        for worker, result in zip(self.alive, results, strict=True):
            if isinstance(result, ProcessDied):
                worker.alive = False
            elif isinstance(result, BaseException):
                raise result
            else:
                worker.wake = result

    async def run_until(self, when: datetime) -> None:
        """Wake every live worker whenever any of them asks to be woken, up to ``when``."""
        for _ in range(1000):
            await self.tick()
            wakes = [w.wake for w in self.alive if w.wake is not None]
            if not wakes or min(wakes) > when:
                break
            self.clock.set(max(min(wakes), self.clock.now()))
        else:
            raise AssertionError("the workers kept asking to be woken")
        self.clock.set(when)
        await self.tick()

    def sent(self) -> list[tuple[str, Sent]]:
        return [(w.name, s) for w in self.workers for s in w.port.sent]

    def kinds(self) -> list[str]:
        return sorted(s.message.kind for _, s in self.sent())

    def questions(self) -> list[str]:
        return sorted(
            s.message.question_id or "" for _, s in self.sent() if s.message.kind == "question"
        )

    def nudged(self) -> list[str]:
        return sorted(s.where for _, s in self.sent() if s.message.kind == "nudge")

    async def close(self) -> None:
        for worker in self.workers:
            await worker.store.close()


def by_worker(cluster: Cluster, kinds: Iterable[str]) -> dict[str, list[str]]:
    wanted = set(kinds)
    out: dict[str, list[str]] = {}
    for name, sent in cluster.sent():
        if sent.message.kind in wanted:
            out.setdefault(name, []).append(sent.message.question_id or sent.message.kind)
    return out
