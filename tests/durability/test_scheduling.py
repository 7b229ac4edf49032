"""The Waker (APScheduler) around the engine: wake-ups asked for from inside a tick are not
lost, pokes are not postponed, and stopping lets the tick in flight finish (bounded)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.core.clock import SystemClock
from bot.scheduling import Waker


class StubEngine:
    """Just what the Waker calls: ``tick`` (scripted) and ``request_stop``."""

    def __init__(self, script) -> None:  # type: ignore[no-untyped-def]
        self.clock = SystemClock()
        self.script = script
        self.ticks = 0
        self.ticked = asyncio.Event()
        self.stop_requested = False

    async def tick(self) -> datetime | None:
        self.ticks += 1
        result = await self.script(self)
        self.ticked.set()
        return result

    def request_stop(self) -> None:
        self.stop_requested = True


async def wait_ticks(engine: StubEngine, count: int, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while engine.ticks < count:
            engine.ticked.clear()
            await engine.ticked.wait()


async def test_a_wake_due_now_asked_for_inside_a_tick_is_not_lost() -> None:
    async def script(engine: StubEngine) -> datetime | None:
        # The first tick finds more to do at once (another process's claim ran out now).
        return engine.clock.now() if engine.ticks == 1 else None

    engine = StubEngine(script)
    waker = Waker(engine, heartbeat=timedelta(hours=1))  # type: ignore[arg-type]
    waker.start()
    try:
        await wait_ticks(engine, 2)
    finally:
        await waker.stop(timeout=1)


async def test_a_poke_during_a_tick_is_not_pushed_back_by_its_later_plan() -> None:
    async def script(engine: StubEngine) -> datetime | None:
        if engine.ticks == 1:
            waker.poke()  # a command changed the chat while this tick was running
        return engine.clock.now() + timedelta(hours=1)

    engine = StubEngine(script)
    waker = Waker(engine, heartbeat=timedelta(hours=1))  # type: ignore[arg-type]
    waker.start()
    try:
        await wait_ticks(engine, 2)
    finally:
        await waker.stop(timeout=1)


async def test_stop_lets_the_tick_in_flight_finish() -> None:
    release = asyncio.Event()
    finished: list[bool] = []

    async def script(engine: StubEngine) -> datetime | None:
        await release.wait()  # a slow post
        finished.append(True)
        return None

    engine = StubEngine(script)
    waker = Waker(engine, heartbeat=timedelta(hours=1))  # type: ignore[arg-type]
    waker.start()
    async with asyncio.timeout(5):
        while engine.ticks == 0:
            await asyncio.sleep(0.01)
    stopping = asyncio.create_task(waker.stop(timeout=5))
    await asyncio.sleep(0)  # stop has begun and is waiting for the tick
    assert engine.stop_requested and not stopping.done()
    release.set()
    assert await stopping is True
    assert finished == [True]  # not cancelled half way


async def test_stop_gives_up_on_a_tick_that_does_not_finish() -> None:
    async def script(engine: StubEngine) -> datetime | None:
        await asyncio.Event().wait()  # a platform call that hangs
        return None

    engine = StubEngine(script)
    waker = Waker(engine, heartbeat=timedelta(hours=1))  # type: ignore[arg-type]
    waker.start()
    async with asyncio.timeout(5):
        while engine.ticks == 0:
            await asyncio.sleep(0.01)
    assert await waker.stop(timeout=0.2) is False
