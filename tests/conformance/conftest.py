"""The ``world`` fixture: each scenario once per platform's world (tests/conformance/worlds).

A scenario marked ``@needs(...)`` is skipped, with the platform's reason, in a world that
cannot do what it needs; nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.core.clock import SimClock
from bot.core.store import Store
from tests.conformance.world import START, World
from tests.conformance.worlds import WORLDS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): what a scenario asks of a world")


@pytest_asyncio.fixture(params=list(WORLDS))
async def world(request: pytest.FixtureRequest, store: Store) -> AsyncIterator[World]:
    kind = WORLDS[request.param]
    mark = request.node.get_closest_marker("needs")
    for capability in mark.args if mark else ():
        if capability in kind.cannot:
            pytest.skip(f"{kind.platform} cannot: {kind.cannot[capability]}")
    world = kind(store)
    await world.start(world.make_plan(), SimClock(START))
    try:
        yield world
    finally:
        await world.stop()
