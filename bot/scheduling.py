"""APScheduler only wakes the engine: one date job at the engine's next wake time, plus a
heartbeat that catches what another process (or a clock jump) changed in the database."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.engine import Engine

log = logging.getLogger("chathost.scheduler")

# Another process may start or advance a chat at any time; a heartbeat this often notices.
HEARTBEAT = timedelta(seconds=15)
JOB_ID = "engine-tick"
# After a failed tick (database down), try again soon rather than wait for the heartbeat.
FAILURE_BACKOFF = (1.0, 2.0, 4.0, 8.0)


class Waker:
    def __init__(self, engine: Engine, *, heartbeat: timedelta = HEARTBEAT) -> None:
        self.engine = engine
        self.heartbeat = heartbeat
        # The truth lives in our tables, so a missed wake-up is harmless: coalesce and run late.
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1}
        )
        # The heartbeat and the date job are two jobs: this keeps their ticks one at a time.
        self._ticking = asyncio.Lock()
        self._failures = 0
        self._stopping = False
        self.last_tick: datetime | None = None  # when a tick last finished without error

    def start(self) -> None:
        """Needs a running event loop (APScheduler's AsyncIOScheduler picks it up)."""
        self.scheduler.add_job(
            self.tick, "interval", seconds=self.heartbeat.total_seconds(), id="heartbeat"
        )
        self.scheduler.start()
        self.poke()

    def poke(self) -> None:
        """Tick as soon as possible (after a command or an event changed the picture)."""
        self._schedule(self.engine.clock.now())

    def _schedule(self, when: datetime) -> None:
        """Wake at ``when``, unless a wake-up is already due earlier (an early tick is harmless,
        a postponed one is not: a poke must not be pushed back by a tick's later plan)."""
        if self._stopping or not self.scheduler.running:
            return
        pending = self.scheduler.get_job(JOB_ID)
        due = pending.next_run_time if pending is not None else None
        if due is not None and due <= when:
            return
        # Two instances: a wake-up scheduled from inside a running tick (due now) must wait
        # for the lock, not be skipped as "maximum number of running instances reached".
        self.scheduler.add_job(
            self.tick, "date", run_date=when, id=JOB_ID, replace_existing=True, max_instances=2
        )

    async def tick(self) -> None:
        if self._stopping:
            return
        async with self._ticking:
            try:
                wake = await self.engine.tick()
            except Exception:
                delay = FAILURE_BACKOFF[min(self._failures, len(FAILURE_BACKOFF) - 1)]
                self._failures += 1
                log.exception("engine tick failed; trying again in %.0fs", delay)
                self._schedule(self.engine.clock.now() + timedelta(seconds=delay))
                return
            self._failures = 0
            self.last_tick = self.engine.clock.now()
        if wake is not None:
            self._schedule(max(wake, self.engine.clock.now()))

    def healthy(self, now: datetime) -> bool:
        """Ticks are getting through (within two heartbeats); for the health endpoint."""
        return self.last_tick is not None and now - self.last_tick <= 2 * self.heartbeat

    async def stop(self, timeout: float = 8.0) -> bool:
        """Stop waking; let a tick in flight finish its delivery (bounded by ``timeout``).

        Returns False when the tick did not finish in time (it is then cancelled with the
        loop; its claimed post stays pending in the database for the next process).
        """
        self._stopping = True
        self.engine.request_stop()
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutdown() would cancel the one in flight
        finished = True
        try:
            async with asyncio.timeout(timeout):
                async with self._ticking:
                    pass
        except TimeoutError:
            log.warning("a tick was still running after %.0fs; leaving it to the database", timeout)
            finished = False
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        return finished
