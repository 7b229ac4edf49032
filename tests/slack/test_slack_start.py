"""Starting against a Slack that cannot be reached, or that refuses the tokens: a typed error
the command line prints as one line with its exit code (PLATFORM, BAD_SETTINGS), never a
traceback of aiohttp's or slack_sdk's, and never a start that hangs retrying forever."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.slack import SlackAdapter
from bot.cli import main
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.errors import ExitCode, PlatformUnreachable, SettingsError
from bot.core.service import ChatService
from bot.core.store import Store
from tests.fakes.slack_api import FakeSlack
from tests.slack.world import SECRET, START
from tests.support import make_plan

GIVE_UP = 20.0  # seconds; a start still running by then hangs (the test fails, never waits on)


def _free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _adapter(api_url: str, *, mode: str = "http", bot_token: str = "xoxb-test") -> SlackAdapter:
    return SlackAdapter(
        SimClock(START),
        bot_token=bot_token,
        app_token="xapp-test",
        signing_secret=SECRET,
        api_url=api_url,
        mode=mode,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
    )


async def _start(adapter: SlackAdapter, store: Store) -> None:
    plan = make_plan(platform="slack", channel="chat2lrn")
    service = ChatService(Engine(plan, store, lambda _p: adapter.port, SimClock(START)))
    try:
        async with asyncio.timeout(GIVE_UP):
            await adapter.start(service)
    finally:
        await adapter.stop()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers (a firewall eating packets, a hung
    proxy)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_nothing_listening_is_platform_unreachable_with_the_token_masked(
    store: Store,
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/api/?token=xoxb-also"
    with pytest.raises(PlatformUnreachable) as raised:
        await _start(_adapter(url), store)
    error = raised.value
    assert error.exit_code == ExitCode.PLATFORM and error.platform == "slack"
    assert "refused" in error.reason
    assert "xoxb-also" not in str(error)
    assert error.url.endswith("/api/?token=***")
    assert "\n" not in str(error)


async def test_a_host_name_that_does_not_resolve(store: Store) -> None:
    with pytest.raises(PlatformUnreachable) as raised:
        await _start(_adapter("http://nonexistent.invalid/api/"), store)
    assert raised.value.url == "http://nonexistent.invalid/api/"
    assert "nonexistent.invalid" in raised.value.reason
    assert "resolve" in raised.value.reason


async def test_a_server_that_never_answers(store: Store, silent_server: int) -> None:
    adapter = _adapter(f"http://127.0.0.1:{silent_server}/api/")
    adapter.client.timeout = 1  # seconds; slack_sdk waits 30 by default
    with pytest.raises(PlatformUnreachable) as raised:
        await _start(adapter, store)
    assert "no answer" in raised.value.reason


async def test_slack_answering_503_at_start(store: Store) -> None:
    async with FakeSlack() as fake:
        fake.fail_next("auth.test", status=503)
        with pytest.raises(PlatformUnreachable) as raised:
            await _start(_adapter(fake.api_url), store)
    assert "503" in raised.value.reason


async def test_a_refused_bot_token_names_the_setting(store: Store) -> None:
    async with FakeSlack() as fake:
        fake.responses["auth.test"] = {"ok": False, "error": "invalid_auth"}
        with pytest.raises(SettingsError) as raised:
            await _start(_adapter(fake.api_url, bot_token="xoxb-revoked"), store)
    message = str(raised.value)
    assert raised.value.exit_code == ExitCode.BAD_SETTINGS
    assert "SLACK_BOT_TOKEN" in message and "invalid_auth" in message and "refused" in message
    assert "xoxb-revoked" not in message


async def test_a_refused_app_token_names_the_setting_instead_of_retrying_forever(
    store: Store,
) -> None:
    async with FakeSlack() as fake:
        fake.responses["apps.connections.open"] = {"ok": False, "error": "invalid_auth"}
        with pytest.raises(SettingsError) as raised:
            await _start(_adapter(fake.api_url, mode="socket"), store)
        assert fake.socket_connections == 0
    assert "SLACK_APP_TOKEN" in str(raised.value)


async def test_socket_mode_when_slack_fails_to_hand_out_a_socket(store: Store) -> None:
    async with FakeSlack() as fake:
        fake.fail_next("apps.connections.open", status=503, times=3)
        with pytest.raises(PlatformUnreachable) as raised:
            await _start(_adapter(fake.api_url, mode="socket"), store)
        assert fake.socket_connections == 0
    assert "503" in raised.value.reason


def test_credentials_in_the_api_url_are_a_settings_error_shown_masked() -> None:
    with pytest.raises(SettingsError) as raised:
        _adapter("https://chathost:xoxp-very-secret@proxy.example/api/")
    assert "SLACK_API_URL" in str(raised.value) and "xoxp-very-secret" not in str(raised.value)
    assert "https://chathost:***@proxy.example/api/" in str(raised.value)


async def test_a_port_already_taken_is_a_settings_error(store: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        async with FakeSlack() as fake:
            adapter = _adapter(fake.api_url)
            adapter.listen_port = int(taken.getsockname()[1])
            with pytest.raises(SettingsError) as raised:
                await _start(adapter, store)
    assert "--port" in str(raised.value)


PLAN = """\
chats:
  - id: s
    title: S
    platform: slack
    channel: general
    hosts: [kate]
    schedule: {start: '2030-01-01 19:00', duration: 1h}
    questions: [{id: Q1, at: 5m, text: Hi}]
"""


def test_chathost_run_says_so_in_one_line_with_the_platform_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    (tmp_path / "plan.yaml").write_text(PLAN)
    for name, value in {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chathost.db'}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": "http://nonexistent.invalid/api/",
        "LOG_LEVEL": "INFO",
    }.items():
        monkeypatch.setenv(name, value)
    code = main(["run", "plan.yaml", "--platform", "slack"])
    err = capsys.readouterr().err
    assert code == ExitCode.PLATFORM, err
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if "cannot reach slack" in x]
    assert "http://nonexistent.invalid/api/" in line and "does not resolve" in line
