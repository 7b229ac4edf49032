"""Health for orchestrators: ``chathost health`` and ``GET /healthz`` on ``--health-port``.

Healthy means: the database answers, its schema is the one this code needs (an old worker
next to a newer schema, or the reverse, is not healthy), and, inside a running worker, the
engine's ticks are getting through.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.errors import UserError
from bot.core.store import Store
from bot.core.store.database import create_engine_for
from bot.core.store.migrate import head_revision, revision_of
from bot.core.store.urls import shown_url

log = logging.getLogger("chathost.health")

DB_TIMEOUT = 5.0


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str
    checks: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        status = "ok" if self.ok else "unhealthy"
        return json.dumps({"status": status, "reason": self.reason, "checks": self.checks})


def safe_url(url: str) -> str:
    """The URL with its password masked: health output goes to terminals and dashboards."""
    return shown_url(url)


async def check_store(store: Store) -> Health:
    """Does the database answer, and is its schema at this code's head revision?"""
    head = head_revision()
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            await store.ping()
            current = await revision_of(store.engine)
    except Exception as exc:
        reason = f"database does not answer: {type(exc).__name__}: {exc}".strip()
        return Health(False, reason, {"database": "down"})
    if current != head:
        reason = (
            f"schema is at {current or 'no version'}, this chathost needs {head}: start "
            "`chathost run` once (it upgrades) or run `alembic upgrade head`"
        )
        return Health(False, reason, {"database": "up", "schema": current or "none"})
    return Health(True, f"database answers, schema at {head}", {"database": "up", "schema": head})


async def check_url(url: str) -> Health:
    """``chathost health``: check a database without changing it (no migrations)."""
    try:
        store = Store(create_engine_for(url, read_only=True))
    except UserError as exc:  # a URL of no known form, or a SQLite file that is not there
        return Health(False, str(exc))
    try:
        return await check_store(store)
    finally:
        await store.close()


SchedulerCheck = Callable[[], bool]


class HealthServer:
    """A tiny HTTP server: ``GET /healthz`` answers 200 when healthy, else 503 (JSON body)."""

    def __init__(
        self,
        store: Store,
        *,
        scheduler_ok: SchedulerCheck | None = None,
        port: int = 8080,
        host: str = "0.0.0.0",
    ) -> None:
        self.store = store
        self.scheduler_ok = scheduler_ok
        self.host = host
        self.port = port
        self._runner: object | None = None

    async def health(self) -> Health:
        result = await check_store(self.store)
        if result.ok and self.scheduler_ok is not None and not self.scheduler_ok():
            checks = {**result.checks, "scheduler": "stalled"}
            return Health(False, "the engine has not ticked for two heartbeats", checks)
        return result

    async def start(self) -> int:
        """Serve; returns the bound port (useful with port 0 in tests)."""
        from aiohttp import web

        async def healthz(_request: web.Request) -> web.Response:
            result = await self.health()
            return web.Response(
                text=result.as_json(),
                status=200 if result.ok else 503,
                content_type="application/json",
            )

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        if runner.addresses:  # the port actually bound (port 0 picks a free one)
            self.port = int(runner.addresses[0][1])
        log.info("health endpoint on http://%s:%d/healthz", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        from aiohttp import web

        if isinstance(self._runner, web.AppRunner):
            await self._runner.cleanup()
        self._runner = None
