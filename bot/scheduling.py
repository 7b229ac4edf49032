"""APScheduler only wakes the engine: one date job at the engine's next wake time, plus a
heartbeat that catches what another process (or a clock jump) changed in the database."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.engine import Engine

log = logging.getLogger("chathost.scheduler")

HEARTBEAT = timedelta(seconds=15)
JOB_ID = "engine-tick"


class Waker:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The truth lives in our tables, so a missed wake-up is harmless: coalesce and run late.
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1}
        )

    def start(self) -> None:
        """Needs a running event loop (APScheduler's AsyncIOScheduler picks it up)."""
        self.scheduler.add_job(
            self.tick, "interval", seconds=HEARTBEAT.total_seconds(), id="heartbeat"
        )
        self.scheduler.start()
        self.poke()

    def poke(self) -> None:
        """Tick as soon as possible (after a command or an event changed the picture)."""
        self._schedule(self.engine.clock.now())

    def _schedule(self, when: datetime) -> None:
        self.scheduler.add_job(self.tick, "date", run_date=when, id=JOB_ID, replace_existing=True)

    async def tick(self) -> None:
        try:
            wake = await self.engine.tick()
        except Exception:
            log.exception("engine tick failed; the heartbeat will try again")
            return
        if wake is not None:
            self._schedule(max(wake, self.engine.clock.now()))

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
