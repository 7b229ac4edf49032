"""Shared fixtures: a fresh SQLite store per test, a simulated clock, the PostgreSQL server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.core.clock import SimClock
from bot.core.store import Store, open_store

pytest_plugins = ["tests.pg_fixtures"]

T0 = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'chathost.db'}")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0.replace(hour=18))
