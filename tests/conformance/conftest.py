"""The ``world`` fixture: each scenario once per platform's world (tests/conformance/worlds).

A scenario marked ``@needs(...)`` is skipped, with the platform's reason, in a world that
cannot do what it needs; nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from bot.core.clock import SimClock
from bot.core.plan import Plan
from bot.core.store import Store
from tests.conformance.world import ASYNC_CHAT, START, World
from tests.conformance.worlds import WORLDS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): what a scenario asks of a world")


async def _open_world(
    request: pytest.FixtureRequest, store: Store, plan_of: Callable[[World], Plan]
) -> AsyncIterator[World]:
    kind = WORLDS[request.param]
    mark = request.node.get_closest_marker("needs")
    for capability in mark.args if mark else ():
        if capability in kind.cannot:
            pytest.skip(f"{kind.platform} cannot: {kind.cannot[capability]}")
    world = kind(store)
    await world.start(plan_of(world), SimClock(START))
    try:
        yield world
    finally:
        await world.stop()


@pytest_asyncio.fixture(params=list(WORLDS))
async def world(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[World]:
    async for opened in _open_world(request, store, lambda w: w.make_plan()):
        yield opened


@pytest_asyncio.fixture(params=list(WORLDS))
async def async_world(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[World]:
    """The world's chat as an async chat of five days (tests/conformance/world.py)."""
    async for opened in _open_world(request, store, lambda w: w.make_plan(**ASYNC_CHAT)):
        yield opened
