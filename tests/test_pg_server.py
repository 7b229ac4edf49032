"""Proves the throwaway PostgreSQL fixture works before the store tests rely on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.pg_server import PostgresNotFoundError, PostgresServer, find_pg_bin

pytest_plugins = ["tests.pg_fixtures"]

# Debian 12 ships PostgreSQL 15; override when PG_BIN points at another version.
EXPECTED_MAJOR = int(os.environ.get("PG_EXPECTED_MAJOR", "15"))


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar_one()
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_server_reports_expected_postgres_version(postgres_server: PostgresServer) -> None:
    url = postgres_server.url().render_as_string(hide_password=False)
    assert url == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres_server.port}/chathost"
    version = await _scalar(url, "select version()")
    assert isinstance(version, str)
    assert version.startswith(f"PostgreSQL {EXPECTED_MAJOR}."), version
    assert postgres_server.major_version == EXPECTED_MAJOR


@pytest.mark.asyncio
async def test_dsn_works_with_plain_asyncpg(postgres_server: PostgresServer) -> None:
    conn = await asyncpg.connect(postgres_server.dsn)
    try:
        assert await conn.fetchval("select current_database()") == "chathost"
    finally:
        await conn.close()


def test_server_runs_with_test_settings(postgres_server: PostgresServer) -> None:
    def show(name: str) -> str:
        return postgres_server.execute(f"SHOW {name}").strip()

    assert show("fsync") == "off"
    assert show("synchronous_commit") == "off"
    assert show("full_page_writes") == "off"
    assert show("listen_addresses") == "127.0.0.1"
    assert show("max_connections") == "100"
    assert show("unix_socket_directories") == str(postgres_server.socket_dir)
    assert show("server_encoding") == "UTF8"


@pytest.mark.asyncio
async def test_postgres_url_is_a_fresh_empty_database(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    name = postgres_url.rsplit("/", 1)[1]
    assert name.startswith("test_")
    assert name in postgres_server.list_databases()
    assert await _scalar(postgres_url, "select current_database()") == name
    tables = await _scalar(
        postgres_url, "select count(*) from information_schema.tables where table_schema='public'"
    )
    assert tables == 0


@pytest.mark.asyncio
async def test_two_databases_are_independent(postgres_url_factory: Callable[[], str]) -> None:
    first, second = postgres_url_factory(), postgres_url_factory()
    assert first != second

    engine = create_async_engine(first)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table only_here (id int primary key)"))
            await conn.execute(text("insert into only_here values (1)"))
    finally:
        await engine.dispose()

    exists = "select to_regclass('public.only_here') is not null"
    assert await _scalar(first, exists) is True
    assert await _scalar(second, exists) is False


def test_create_and_drop_database(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("scratch_db")
    assert url.database == "scratch_db"
    assert "scratch_db" in postgres_server.list_databases()
    postgres_server.drop_database("scratch_db")
    assert "scratch_db" not in postgres_server.list_databases()
    postgres_server.drop_database("scratch_db")  # IF EXISTS: dropping twice is fine


def test_unsafe_database_names_are_rejected(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="unsafe database name"):
        postgres_server.create_database('x"; drop database chathost; --')


def test_stop_removes_folder_and_process(postgres_server: PostgresServer) -> None:
    """A second, independent server: proves stop() leaves no process and no folder behind."""
    with PostgresServer(postgres_server.bin_dir) as other:
        assert other.port != postgres_server.port
        base_dir = other.base_dir
        assert base_dir is not None
        pid = int((other.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        assert Path(f"/proc/{pid}").exists()
    assert not base_dir.exists()
    assert not Path(f"/proc/{pid}").exists()
    assert not other.running


def test_missing_binaries_name_the_package(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFoundError, match=r"apt-get install postgresql-15"):
        PostgresServer(tmp_path)
    with pytest.raises(PostgresNotFoundError, match=r"PG_BIN=.* lacks initdb"):
        find_pg_bin({"PG_BIN": str(tmp_path)})


def test_missing_binaries_skip_locally_but_fail_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    # Imported here: a module-level import would precede its registration as a plugin.
    from tests.pg_fixtures import missing_postgres

    error = PostgresNotFoundError("not installed")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        missing_postgres(error)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true.*not installed"):
        missing_postgres(error)
