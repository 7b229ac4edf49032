"""Fixtures for the durability tests: every store test runs on SQLite and on a real PostgreSQL.

The PostgreSQL server comes from tests/pg_fixtures.py: started once per session in a temporary
folder; with CI=true a missing server fails the run instead of skipping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.core.store import Store, open_store
from tests.durability.procs import Workers

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty database URL of each kind (the PostgreSQL one is dropped after)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'chathost.db'}"


@pytest.fixture
def db_url_factory(db_url: str, request: pytest.FixtureRequest, tmp_path) -> Callable[[], str]:
    """More fresh databases of the same kind as ``db_url``."""
    counter = iter(range(1, 1000))

    def make() -> str:
        if db_url.startswith("postgresql"):
            return str(request.getfixturevalue("postgres_url_factory")())
        return f"sqlite+aiosqlite:///{tmp_path / f'extra{next(counter)}.db'}"

    return make


@pytest.fixture
async def any_store(db_url: str) -> AsyncIterator[Store]:
    """An upgraded store on SQLite, then on PostgreSQL."""
    store = await open_store(db_url)
    yield store
    await store.close()


@pytest.fixture
def workers_factory(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    """Starts worker processes; kills and reaps whatever still runs when the test ends."""
    made: list[Workers] = []

    def make(common: list[str], env: dict[str, str] | None = None) -> Workers:
        group = Workers(tmp_path, common, env)
        made.append(group)
        return group

    yield make
    for group in made:
        group.reap()
        for worker in group.all:  # shown by pytest when the test failed: what each one did
            print(f"--- worker {worker.name} (exit {worker.process.returncode}) ---")
            print(worker.output()[-4000:])
