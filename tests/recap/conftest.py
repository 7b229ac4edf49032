"""Fixtures for the recap tests: the tea chat rehearsed into a fresh SQLite database."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.core.store import Store, open_store
from tests.recap.helpers import FIRST, FIRST_RUN, SECOND, SECOND_RUN, rehearse


@pytest.fixture
async def tea(store: Store) -> int:
    """The first run of the tea chat in the test's store; its run id."""
    return (await rehearse(store, FIRST_RUN, FIRST)).run_id


async def build_archive(path: Path) -> str:
    """Two runs of the tea chat, and a ``/highlight`` by the host on bob's first answer."""
    url = f"sqlite+aiosqlite:///{path}"
    store = await open_store(url)
    try:
        first = await rehearse(store, FIRST_RUN, FIRST)
        await rehearse(store, SECOND_RUN, SECOND)
        bob = next(
            m for m in await store.run_messages(first.run_id) if m.text.startswith("A1 my friend")
        )
        await store.add_pick(bob.id or 0, "kate", "kate", FIRST)
    finally:
        await store.close()
    return url


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database URL with two runs, shared by a module's read-only tests.

    Built in a thread of its own: Playwright's sync API keeps an event loop running in the
    main thread, where ``asyncio.run`` would refuse to start.
    """
    folder = tmp_path_factory.mktemp("archive")
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, build_archive(folder / "archive.db")).result()
