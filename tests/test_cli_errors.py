"""One error boundary: every subcommand turns a user's mistake into one clear line on stderr
and the exit code the README documents, never a traceback."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.errors import ExitCode
from bot.core.store import open_store
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GOOD_PLAN = ROOT / "chats.yaml"
BAD_PLAN = "chats:\n  - id: x\n    title: X\n    qestions: []\n"
SLACK_ONLY = (
    "chats:\n  - {id: s, title: S, platform: slack, channel: general, hosts: [kate],\n"
    "     schedule: {start: '2030-01-01 19:00', duration: 1h}, questions: [{id: Q1, at: 5m, text: Hi}]}\n"
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a plan of mistakes, an empty database and one with no runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Settings, "model_config", {**Settings.model_config, "env_file": None})
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "bad.yaml").write_text(BAD_PLAN)
    (tmp_path / "slack.yaml").write_text(SLACK_ONLY)
    (tmp_path / "replies.yaml").write_text("- {at: soon, user: ann, text: hi}\n")
    (tmp_path / "empty.db").touch()
    (tmp_path / "a-file").touch()
    asyncio.run(_chathost_db(tmp_path / "norun.db"))
    return tmp_path


async def _chathost_db(path: Path) -> None:
    await (await open_store(f"sqlite:///{path}")).close()


DOWN = f"postgres://chathost:pw-secret@127.0.0.1:{closed_port()}/chathost"
CASES = {
    "export, URL of no known form": (["export", "latest", "--db", "mysql://u:pw-secret@h/db"], ExitCode.BAD_SETTINGS, "is not a database URL"),
    "export, database down": (["export", "latest", "--db", DOWN], ExitCode.DATABASE, "cannot open the database"),
    "export, missing file": (["export", "latest", "--db", "nosuch/x.db"], ExitCode.DATABASE, "no database at nosuch/x.db"),
    "export, empty database": (["export", "latest", "--db", "sqlite:///empty.db"], ExitCode.DATABASE, "no chathost data in sqlite:///empty.db"),
    "export, unknown run": (["export", "7", "--db", "norun.db"], ExitCode.BAD_INPUT, "no run 7"),
    "export, no run yet": (["export", "latest", "--db", "norun.db"], ExitCode.BAD_INPUT, "no run has started yet"),
    "export, not a run id": (["export", "banana", "--db", "norun.db"], ExitCode.BAD_INPUT, "is not a run id"),
    "export, bad format": (["export", "latest", "--format", "pdf"], ExitCode.BAD_SETTINGS, "invalid choice"),
    "serve, URL of no known form": (["serve", "--db", "redis://h"], ExitCode.BAD_SETTINGS, "is not a database URL"),
    "serve, missing file": (["serve", "--db", "nothere.db"], ExitCode.DATABASE, "no database at nothere.db"),
    "serve, empty database": (["serve", "--db", "empty.db"], ExitCode.DATABASE, "no chathost data"),
    "health, URL of no known form": (["health", "--db", "ftp://x"], ExitCode.UNHEALTHY, "is not a database URL"),
    "health, missing file": (["health", "--db", "nothere.db"], ExitCode.UNHEALTHY, "no database at"),
    "health, database down": (["health", "--db", DOWN], ExitCode.UNHEALTHY, "database does not answer"),
    "validate, missing file": (["validate", "missing.yaml"], ExitCode.BAD_INPUT, "missing.yaml:1:1 (file): cannot read"),
    "validate, bad plan": (["validate", "bad.yaml"], ExitCode.BAD_INPUT, "unknown key 'qestions'"),
    "rehearse, unknown chat": (["rehearse", str(GOOD_PLAN), "--chat", "nosuch"], ExitCode.BAD_INPUT, "no chat 'nosuch' in the plan"),
    "rehearse, bad --at": (["rehearse", str(GOOD_PLAN), "--chat", "tuesday-tea", "--at", "tomorrowish"], ExitCode.BAD_SETTINGS, "--at: 'tomorrowish' is not a date-time"),
    "rehearse, bad replies": (["rehearse", str(GOOD_PLAN), "--chat", "tuesday-tea", "--replies", "replies.yaml"], ExitCode.BAD_INPUT, "replies.yaml:1:"),
    "rehearse, bad --db": (["rehearse", str(GOOD_PLAN), "--chat", "tuesday-tea", "--db", "oracle://x"], ExitCode.BAD_SETTINGS, "is not a database URL"),
    "rehearse, bad --speed": (["rehearse", "--chat", "x", "--speed", "fast"], ExitCode.BAD_SETTINGS, "use a number such as 60, or max"),
    "run, bad plan": (["run", "bad.yaml"], ExitCode.BAD_INPUT, "unknown key 'qestions'"),
    "run, no chat on that platform": (["run", "slack.yaml", "--platform", "console"], ExitCode.BAD_SETTINGS, "no chat in the plan runs on console: its chats use slack"),
    "run, missing token": (["run", "slack.yaml"], ExitCode.BAD_SETTINGS, "slack (chats: s) needs SLACK_BOT_TOKEN"),
    "run, missing tokens of a mode": (["run", "slack.yaml", "--slack-mode", "http"], ExitCode.BAD_SETTINGS, "slack (chats: s) needs SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
    "run, platform not installed": (["run", "slack.yaml", "--platform", "irc"], ExitCode.BAD_SETTINGS, "invalid choice: 'irc'"),
    "calendar, --out under a file": (["calendar", str(GOOD_PLAN), "--out", "a-file/tea.ics"], ExitCode.BAD_SETTINGS, "--out a-file: cannot create the folder"),
    "calendar, --out is a folder": (["calendar", str(GOOD_PLAN), "--out", "."], ExitCode.BAD_SETTINGS, "--out .: cannot write the file (Is a directory)"),
    "rehearse, --out under a file": (["rehearse", str(GOOD_PLAN), "--chat", "tuesday-tea", "--out", "a-file/demo"], ExitCode.BAD_SETTINGS, "--out a-file/demo: cannot create the folder"),
    "unknown subcommand": (["frobnicate"], ExitCode.BAD_SETTINGS, "invalid choice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_mistake_gets_one_clear_line_and_its_exit_code(
    case: str, place: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, code, says = CASES[case]
    try:
        got = main(argv)
    except SystemExit as exit_:  # argparse's own usage errors
        got = exit_.code
    err = capsys.readouterr().err
    assert got == code, err
    assert says in err
    assert "Traceback" not in err and "pw-secret" not in err
    # One line per problem: argparse's usage block aside, and a plan lists each of its issues.
    lines = [line for line in err.splitlines() if line.strip()]
    if not err.startswith("usage:"):
        assert len(lines) == 1 or all(re.match(r"\S+\.yaml:\d+:\d+ ", line) for line in lines), err


def test_read_only_commands_create_no_database(place: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["export", "latest", "--db", "new/x.db"], ["serve", "--db", "new/x.db"], ["health", "--db", "new/x.db"]):
        main(argv)
    assert not (place / "new").exists()
    capsys.readouterr()


def test_settings_that_cannot_be_read_are_named(place: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_JSON", "maybe")
    assert main(["export", "latest"]) == ExitCode.BAD_SETTINGS
    err = capsys.readouterr().err
    assert "LOG_JSON" in err and "Traceback" not in err


def test_run_with_its_database_down_says_so_in_one_line(
    place: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.app
    from bot.core.store import RetryPolicy

    monkeypatch.setattr(bot.app, "STARTUP_RETRY", RetryPolicy(attempts=2, first_delay=0.01, max_delay=0.01))
    monkeypatch.setenv("DATABASE_URL", DOWN)
    assert main(["run", str(GOOD_PLAN), "--platform", "console"]) == ExitCode.DATABASE
    err = capsys.readouterr().err
    assert "cannot open the database postgres://chathost:***@127.0.0.1" in err
    assert "Traceback" not in err and "pw-secret" not in err


def test_debug_shows_the_traceback(place: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "latest", "--db", "nothere.db", "--debug"]) == ExitCode.DATABASE
    assert "Traceback" in capsys.readouterr().err


def test_a_real_process_prints_no_traceback(place: Path) -> None:
    """The same through the installed entry point, as a person runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "export", "latest", "--db", "postgres://u:pw-secret@h:notaport/db"],
        capture_output=True, text=True, timeout=60, cwd=place,
    )
    assert done.returncode == ExitCode.BAD_SETTINGS
    assert "Traceback" not in done.stderr and "pw-secret" not in done.stderr
    assert "is not a database URL" in done.stderr


async def test_postgres_urls_as_hosts_hand_them_out_open_the_real_server(postgres_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    real = make_url(postgres_url)
    pasted = real.set(drivername="postgres").render_as_string(hide_password=False)
    store = await open_store(pasted + "?sslmode=disable")
    await store.close()
    again = await open_store(pasted, create=False)  # export/serve find the tables it made
    await again.close()


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")
DISCORD_ONLY = SLACK_ONLY.replace("platform: slack", "platform: discord")


@pytest.mark.parametrize(
    ("setting", "value", "code", "says"),
    [
        ("DISCORD_API_URL", f"http://127.0.0.1:{closed_port()}/api/v10", ExitCode.PLATFORM, "cannot reach discord at http://127.0.0.1:"),
        ("DISCORD_API_URL", "http://nosuchhost.invalid", ExitCode.PLATFORM, "cannot reach discord at http://nosuchhost.invalid/api/v10: the host name nosuchhost.invalid does not resolve"),
        ("DISCORD_GUILD_IDS", "general", ExitCode.BAD_SETTINGS, "DISCORD_GUILD_IDS: 'general' is not a Discord id"),
        ("DISCORD_SHARDS", "many", ExitCode.BAD_SETTINGS, "DISCORD_SHARDS: 'many' should be auto"),
    ],
)
def test_run_on_discord_that_cannot_start_says_why_in_one_line(
    setting: str, value: str, code: ExitCode, says: str,
    place: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (place / "discord.yaml").write_text(DISCORD_ONLY)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///run.db")
    monkeypatch.setenv("DISCORD_TOKEN", "tok-secret.abc.def")
    monkeypatch.setenv(setting, value)
    assert main(["run", "discord.yaml"]) == code
    err = capsys.readouterr().err
    assert says in err, err
    assert "Traceback" not in err and "tok-secret" not in err
    said = [line for line in err.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(said) == 1, err  # besides the log lines of the start (discord.py's "logging in")
    assert "WARNING" not in err  # no warning about voice libraries a text bot never needs
