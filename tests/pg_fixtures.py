"""pytest fixtures for a real PostgreSQL server (see tests/pg_server.py).

Enable in tests/conftest.py with ``pytest_plugins = ["tests.pg_fixtures"]``.

- ``postgres_server`` (session): one private server per test session (per xdist worker).
- ``postgres_url`` (function): a fresh, empty database; yields its ``postgresql+asyncpg://``
  URL as a string and drops the database afterwards.
- ``postgres_url_factory`` (function): call it for more fresh databases in one test.

Missing server binaries skip these tests locally, but fail them when ``CI=true``: a CI run that
silently skips the database tests would look green while testing nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn

import pytest

from tests.pg_server import PostgresNotFoundError, PostgresServer

__all__ = ["postgres_server", "postgres_url", "postgres_url_factory"]


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing_postgres(exc: PostgresNotFoundError) -> NoReturn:
    """Skip locally, fail on CI (where a skip would hide that nothing was tested)."""
    if running_in_ci():
        pytest.fail(f"CI=true but PostgreSQL is unavailable: {exc}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server with a ``chathost`` database, started once per session."""
    try:
        server = PostgresServer()
    except PostgresNotFoundError as exc:
        missing_postgres(exc)
    with server:
        yield server


@pytest.fixture
def postgres_url_factory(postgres_server: PostgresServer) -> Iterator[Callable[[], str]]:
    """Returns ``make() -> url``; every call creates one more fresh database, all dropped after."""
    created: list[str] = []

    def make() -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        url = postgres_server.create_database(name)
        created.append(name)
        return url.render_as_string(hide_password=False)

    yield make
    for name in created:
        postgres_server.drop_database(name)


@pytest.fixture
def postgres_url(postgres_url_factory: Callable[[], str]) -> str:
    """``postgresql+asyncpg://`` URL of a fresh database of this test only."""
    return postgres_url_factory()
