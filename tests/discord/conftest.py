"""Fixtures for the Discord adapter tests (the harness itself is in harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.core.store import Store
from tests.discord.harness import Harness, running_harness


@pytest_asyncio.fixture
async def harness(store: Store) -> AsyncIterator[Harness]:
    async with running_harness(store) as h:
        yield h
