"""Lifecycle of ``chathost run``: settings -> store -> engine -> adapters -> scheduler, all in
one asyncio loop, so Slack, Discord and the scheduler share a process."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence

from bot.adapters.base import Adapter
from bot.core.clock import Clock, SystemClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.ports import Port
from bot.core.service import ChatService
from bot.core.store import Store, open_store
from bot.scheduling import Waker
from bot.settings import Settings

log = logging.getLogger("chathost.app")

AdapterFactory = Callable[[Settings, Clock], Adapter]


class MissingTokens(Exception):
    """Which environment variables are needed for which chats, in words a user can act on."""


def check_tokens(settings: Settings, plan: Plan, platforms: Sequence[str], **kw: str) -> None:
    problems = []
    for platform in platforms:
        missing = settings.missing_tokens(platform, **kw)
        if missing:
            chats = ", ".join(c.id for c in plan.chats if c.platform == platform)
            problems.append(f"{platform} (chats: {chats}) needs {', '.join(missing)}")
    if problems:
        raise MissingTokens(
            "cannot start: " + "; ".join(problems) + ". Set them in the environment or .env "
            "(see README), or run only some platforms with --platform."
        )


class App:
    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        adapters: dict[str, Adapter],
        *,
        clock: Clock | None = None,
        store: Store | None = None,
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.adapters = adapters
        self.clock = clock or SystemClock()
        self._store = store
        self.engine: Engine | None = None
        self.waker: Waker | None = None
        self._stopped = asyncio.Event()

    def port_for(self, platform: str) -> Port:
        return self.adapters[platform].port

    async def start(self) -> ChatService:
        store = self._store or await open_store(self.settings.database_url)
        self._store = store
        plan = Plan(
            timezone=self.plan.timezone,
            chats=[c for c in self.plan.chats if c.platform in self.adapters],
        )
        self.engine = Engine(plan, store, self.port_for, self.clock)
        self.waker = Waker(self.engine)
        self.engine.on_change = self.waker.poke
        service = ChatService(self.engine, on_change=self.waker.poke)
        await self.engine.start()
        for adapter in self.adapters.values():
            await adapter.start(service)
        self.waker.start()
        log.info("chathost running: %s", ", ".join(self.adapters) or "no platforms")
        return service

    async def stop(self) -> None:
        if self.waker:
            self.waker.stop()
        for adapter in self.adapters.values():
            await adapter.stop()
        if self._store:
            await self._store.close()
        self._stopped.set()

    async def run_forever(self) -> None:
        """Run until SIGINT/SIGTERM, then stop cleanly (hosting platforms send SIGTERM)."""
        await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping")
        await self.stop()
