"""No token, signing secret or database password reaches the logs, at any level, by any route:
messages, %-arguments, exception text and tracebacks (chained too), stack dumps, uncaught
exceptions in the main thread, other threads and asyncio tasks, text and JSON formats; and in
a real worker process started the way `chathost run` starts, at DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logging_setup import REDACTED, setup_logging
from bot.settings import Settings
from tests.durability.procs import plan_yaml, posts, start_in, wait_until

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-2718281828-3141592653-AbCdEfGhIjKlMnOpQrStUvWx",
    "SLACK_APP_TOKEN": "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "DISCORD_TOKEN": "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.AbCdEfGhIjKlMnOpQrStUvWxYz012345",
}
DB_PASSWORD = "pg-Pa55word-for-chathost"
SECRETS = [*TOKENS.values(), DB_PASSWORD]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    levels = {n: logging.getLogger(n).level for n in ("sqlalchemy.engine", "apscheduler")}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    sys.excepthook, threading.excepthook = saved[2], saved[3]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def settings() -> Settings:
    return Settings(
        slack_bot_token=TOKENS["SLACK_BOT_TOKEN"],
        slack_app_token=TOKENS["SLACK_APP_TOKEN"],
        slack_signing_secret=TOKENS["SLACK_SIGNING_SECRET"],
        discord_token=TOKENS["DISCORD_TOKEN"],
        database_url=f"postgresql+asyncpg://chathost:{DB_PASSWORD}@db.internal:5432/chathost",
    )


def leak_everything() -> None:
    """Every way we know a secret can reach a log line."""
    bot, app, signing, discord = TOKENS.values()
    for name in ("chathost.app", "slack_bolt.App", "slack_sdk.web", "discord.http", "aiohttp"):
        log = logging.getLogger(name)
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            log.log(level, f"Authorization: Bearer {bot}")
            log.log(level, "headers %s", {"Authorization": f"Bot {discord}"})
            log.log(level, "app token %r and secret %s", app, signing)
    log = logging.getLogger("chathost.engine")
    try:
        try:
            raise ConnectionError(f"could not connect with {DB_PASSWORD}")
        except ConnectionError as inner:
            raise RuntimeError(f"invalid_auth for token {bot}") from inner
    except RuntimeError:
        log.exception("post failed")
        log.debug("with a stack dump %s", discord, stack_info=True)
    log.warning("bad %-args %s %s", bot)  # a formatting error must not print the raw token
    # Uncaught: main thread, another thread, an asyncio task nobody awaited.
    try:
        raise ValueError(f"crash holding {signing}")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    thread = threading.Thread(target=_raise, args=(f"thread crash with {app}",))
    thread.start()
    thread.join()
    loop = asyncio.new_event_loop()
    try:
        loop.call_exception_handler(
            {"message": f"Task exception was never retrieved {bot}", "exception": KeyError(discord)}
        )
    finally:
        loop.close()


def _raise(text: str) -> None:
    raise OSError(text)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_secrets_are_masked_on_every_route(as_json: bool, capsys, restore_logging) -> None:
    found = settings().secret_values()
    assert sorted(found) == sorted(SECRETS)  # the DATABASE_URL password counts as a secret
    setup_logging("DEBUG", as_json=as_json, secrets=found)
    leak_everything()
    err = capsys.readouterr().err
    for secret in SECRETS:
        assert secret not in err
    assert err.count(REDACTED) >= 50
    assert "invalid_auth for token" in err and "Traceback" in err  # context is kept
    if as_json:
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert any("exception" in r for r in records) and any("stack" in r for r in records)
        assert {r["level"] for r in records} >= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


@pytest.mark.parametrize("log_json", ["false", "true"], ids=["text", "json"])
async def test_a_worker_at_debug_with_failing_posts_never_logs_a_token(
    tmp_path: Path, workers_factory, log_json: str
) -> None:
    """The fake platform rejects every post with an error quoting the bot token (as a badly
    written SDK might); the engine logs the failure, retries, then reports it to the hosts."""
    out = tmp_path / "posts.jsonl"
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_yaml(start_in(0), [("Q1", 1)], 30))
    env = {**TOKENS, "LOG_LEVEL": "DEBUG", "LOG_JSON": log_json}
    group = workers_factory(
        [
            "--db",
            f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
            "--plan",
            str(plan),
            "--out",
            str(out),
            "--fail-with-secret",
        ],
        env,
    )
    worker = group.start("w1")
    await wait_until(lambda: "will retry" in worker.output(), 20, "a failed post to be logged")
    worker.signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.wait, 10) == 0
    output = worker.output()
    for secret in TOKENS.values():
        assert secret not in output
    assert f"invalid_auth: token {REDACTED}" in output
    assert posts(out) == []
    if log_json == "true":
        lines = [line for line in output.splitlines() if line.strip()]
        assert lines and all(json.loads(line)["level"] for line in lines)
