"""Lifecycle of ``chathost run``: settings -> store -> engine -> adapters -> scheduler, all in
one asyncio loop, so every platform's adapter and the scheduler share a process.

Any number of these processes may share one PostgreSQL database (see the engine's docstring):
each one schedules every chat of its platforms, and the database decides who posts each step.
Stopping (SIGTERM, how hosting platforms stop a worker) finishes the post in flight and exits
within STOP_BUDGET; whatever was left is claimable by the other workers or the next start.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from bot.adapters.base import Adapter
from bot.core.clock import Clock, SystemClock
from bot.core.engine import CLAIM_LEASE, Engine
from bot.core.errors import DatabaseUnavailable, UserError
from bot.core.plan import Plan
from bot.core.ports import Port
from bot.core.service import ChatService
from bot.core.store import RetryPolicy, Store, open_store, retry_transient
from bot.core.store.urls import shown_url
from bot.export.pictures import recap_pictures
from bot.health import HealthServer
from bot.scheduling import HEARTBEAT, Waker
from bot.settings import Settings

log = logging.getLogger("chathost.app")

# SIGTERM to exit: platforms usually allow 10 s before SIGKILL; keep a margin.
STOP_BUDGET = 8.0
# Shares of the budget: the engine's in-flight delivery first, then each adapter's queue.
TICK_SHARE = 0.6
# A worker that starts while the database restarts waits for it rather than crash-looping.
STARTUP_RETRY = RetryPolicy(attempts=8, first_delay=0.5, max_delay=5.0)


class App:
    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        adapters: dict[str, Adapter],
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        health_port: int | None = None,
        worker_id: str | None = None,
        claim_lease: timedelta = CLAIM_LEASE,
        heartbeat: timedelta = HEARTBEAT,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.adapters = adapters
        self.clock = clock or SystemClock()
        self._store = store
        self.health_port = health_port
        self.worker_id = worker_id
        self.claim_lease = claim_lease
        self.heartbeat = heartbeat
        self.engine: Engine | None = None
        self.waker: Waker | None = None
        self.health: HealthServer | None = None
        self._stopped = asyncio.Event()

    def port_for(self, platform: str) -> Port:
        return self.adapters[platform].port

    async def start(self) -> ChatService:
        store = self._store or await self._open_store()
        self._store = store
        # The running platforms' chats, and the plan's adhoc: section (who may start a
        # spontaneous chat, where, and its settings) as written.
        running = [c for c in self.plan.chats if c.platform in self.adapters]
        plan = self.plan.model_copy(update={"chats": running})
        self.engine = Engine(
            plan,
            store,
            self.port_for,
            self.clock,
            worker_id=self.worker_id,
            claim_lease=self.claim_lease,
            public_url=self.settings.public_url,  # recaps link to the archive's run page
            illustrate=recap_pictures,  # the word cloud goes with each posted recap
        )
        self.waker = Waker(self.engine, heartbeat=self.heartbeat)
        self.engine.on_change = self.waker.poke
        # Group commit: replies arriving together are stored in one transaction (bench/).
        service = ChatService(self.engine, on_change=self.waker.poke)
        await retry_transient(self.engine.start, what="recording the plan", policy=STARTUP_RETRY)
        for adapter in self.adapters.values():
            await adapter.start(service)
        self.waker.start()
        if self.health_port is not None:
            waker = self.waker
            self.health = HealthServer(
                store, scheduler_ok=lambda: waker.healthy(self.clock.now()), port=self.health_port
            )
            await self.health.start()
        log.info(
            "chathost running: %s (worker %s)",
            ", ".join(self.adapters) or "no platforms",
            self.engine.worker_id,
        )
        return service

    async def _open_store(self) -> Store:
        """The store, waiting out a database that is restarting; one that stays down (or
        refuses the login) is a DatabaseUnavailable naming it, not a driver's traceback."""
        url = self.settings.database_url
        try:
            return await retry_transient(
                lambda: open_store(url), what="opening the database", policy=STARTUP_RETRY
            )
        except UserError:
            raise
        except (OSError, DBAPIError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise DatabaseUnavailable(
                f"cannot open the database {shown_url(url)}: "
                f"{reason[0] if reason else type(exc).__name__}"
            ) from exc

    async def stop(self, budget: float = STOP_BUDGET) -> None:
        """Finish in-flight work within ``budget`` seconds, then close everything."""
        deadline = time.monotonic() + budget
        if self.waker:
            await self.waker.stop(timeout=budget * TICK_SHARE)
        for name, adapter in self.adapters.items():
            left = max(0.1, deadline - time.monotonic())
            try:
                await asyncio.wait_for(adapter.stop(), timeout=left)
            except TimeoutError:
                log.warning("the %s adapter did not stop within %.1fs", name, left)
            except Exception:
                log.exception("the %s adapter failed while stopping", name)
        if self.health:
            await self.health.stop()
        if self._store:
            await self._store.close()
        self._stopped.set()

    async def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM, then stop cleanly (hosting platforms send SIGTERM)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await self.start()
            await stop.wait()
            log.info("stopping: finishing in-flight posts (at most %.0fs)", STOP_BUDGET)
        finally:
            await self.stop()
        log.info("stopped")
