"""`chathost health` and GET /healthz: healthy only when the database answers and its schema
is the one the code needs (and, in a worker, the engine is ticking)."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import pytest

from bot.cli import EXIT_UNHEALTHY, main
from bot.core.store import Store, open_store
from bot.core.store.database import create_engine_for
from bot.core.store.migrate import head_revision, upgrade
from bot.health import HealthServer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on return: nothing listens


async def _migrate(url: str, target: str = "head") -> None:
    engine = create_engine_for(url)
    try:
        await upgrade(engine, target)
    finally:
        await engine.dispose()


def test_health_is_ok_for_a_current_database(db_url: str, capsys) -> None:
    asyncio.run(_migrate(db_url))
    assert main(["health", "--db", db_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: database answers, schema at") and head_revision() in out


def test_health_fails_for_a_database_behind_the_code(db_url: str, capsys) -> None:
    asyncio.run(_migrate(db_url, "0001"))
    assert main(["health", "--db", db_url]) == EXIT_UNHEALTHY
    err = capsys.readouterr().err
    assert "schema is at 0001" in err and "alembic upgrade head" in err


def test_health_fails_when_the_database_does_not_answer_and_hides_the_password(
    capsys,
) -> None:
    url = f"postgresql+asyncpg://chathost:hunter2hunter2@127.0.0.1:{closed_port()}/chathost"
    assert main(["health", "--db", url]) == EXIT_UNHEALTHY
    err = capsys.readouterr().err
    assert "database does not answer" in err
    assert "hunter2hunter2" not in err and "***" in err


def test_health_does_not_create_or_upgrade_anything(tmp_path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'empty.db'}"
    assert main(["health", "--db", url]) == EXIT_UNHEALTHY
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()  # neither the file nor its folder
    (tmp_path / "empty.db").touch()  # a database without chathost's tables
    assert main(["health", "--db", str(tmp_path / "empty.db")]) == EXIT_UNHEALTHY
    assert "no version" in capsys.readouterr().err


async def get(port: int) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return response.status, json.loads(await response.text())


async def test_the_http_endpoint_reports_database_schema_and_scheduler(db_url: str) -> None:
    store = await open_store(db_url)
    ticking = True
    server = HealthServer(store, scheduler_ok=lambda: ticking, port=0, host="127.0.0.1")
    port = await server.start()
    try:
        status, body = await get(port)
        assert (status, body["status"], body["checks"]["schema"]) == (200, "ok", head_revision())
        ticking = False
        status, body = await get(port)
        assert (status, body["checks"]["scheduler"]) == (503, "stalled")
    finally:
        await server.stop()
        await store.close()


async def test_the_http_endpoint_says_503_when_the_database_is_gone(tmp_path) -> None:
    url = f"postgresql+asyncpg://chathost@127.0.0.1:{closed_port()}/chathost"
    store = Store(create_engine_for(url))  # a worker's store whose database went away
    server = HealthServer(store, port=0, host="127.0.0.1")
    port = await server.start()
    try:
        status, body = await get(port)
        assert status == 503 and body["checks"]["database"] == "down"
    finally:
        await server.stop()
        await store.close()


@pytest.mark.parametrize("flag", [[], ["--log-json"]])
def test_run_accepts_the_health_and_json_flags(flag: list[str]) -> None:
    from bot.cli import _parser
    from bot.platforms import load_platforms

    args = _parser(load_platforms()).parse_args(["run", "--health-port", "8081", *flag])
    assert args.health_port == 8081 and args.log_json is bool(flag)
