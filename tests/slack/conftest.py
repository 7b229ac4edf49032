"""Fixtures for the Slack adapter's tests; the world they build is in tests/slack/world.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot.core.store import Store
from tests.slack.world import SlackWorld, slack_world


@pytest_asyncio.fixture
async def world(store: Store) -> AsyncIterator[SlackWorld]:
    """A running Slack adapter in HTTP mode, the core behind it, the fake Slack in front."""
    async with slack_world(store) as w:
        yield w
