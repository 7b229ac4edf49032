"""Trying a spontaneous chat in the terminal, with no plan entry at all: ``chathost run
--platform console --channel NAME`` (the console plugin's own option) and ``chathost rehearse
--adhoc`` with a replies file that starts with ``/startchat TITLE``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.console.plugin import terminal_channel
from bot.cli import main
from bot.core.clock import SimClock
from bot.core.errors import ExitCode, SettingsError
from bot.core.plan import parse_plan
from bot.platforms import BuildContext
from bot.runner import check_platforms
from tests.core.test_engine import T0
from tests.support import CHAT_YAML

ROOT = Path(__file__).resolve().parents[2]
ONLY_ADHOC = "adhoc: {hosts: [kate], channels: [general, events]}\n"
README_EXAMPLE = [  # the README's Spontaneous chats example, typed as it shows it
    "kate: /startchat Panel: AI in schools #aichat",
    "kate: /ask What worries you most?",
    "bob: A1 students outsourcing their thinking",
    "kate: /endchat",
]


def channel_of(plan_text: str, **options: str | None) -> str:
    plan = parse_plan(plan_text)
    context = BuildContext(None, None, plan, SimClock(T0), argparse.Namespace(**options))  # type: ignore[arg-type]
    return terminal_channel(context)


def test_the_terminal_is_on_the_channel_asked_for_else_the_plans_else_console() -> None:
    console_chat = CHAT_YAML.format(platform="console", channel="teachat", threads="none")
    assert channel_of(console_chat, console_channel="#general") == "general"
    assert channel_of(console_chat, console_channel=None) == "teachat"
    assert channel_of(ONLY_ADHOC, console_channel=None) == "console"
    assert channel_of(ONLY_ADHOC) == "console"  # options of a run without the console's group


def test_a_platform_with_no_chat_runs_when_the_plan_has_an_adhoc_section() -> None:
    check_platforms(parse_plan(ONLY_ADHOC), ["console"])
    slack_only = CHAT_YAML.format(platform="slack", channel="C1", threads="none")
    with pytest.raises(SettingsError, match="no chat in the plan runs on console"):
        check_platforms(parse_plan(slack_only), ["console"])
    with pytest.raises(SettingsError, match="name the platforms to hold spontaneous chats on"):
        check_platforms(parse_plan(ONLY_ADHOC), [])


def terminal_on_general(tmp_path: Path, **streams: Any) -> subprocess.Popen[Any]:
    """``chathost run chats.yaml --platform console --channel general`` in ``tmp_path``, with
    an ad-hoc-only plan and its own database, its standard streams as given."""
    (tmp_path / "chats.yaml").write_text(ONLY_ADHOC)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chathost.db'}"}
    env.pop("CHATS_FILE", None)
    command = [sys.executable, "-m", "bot", "run", "chats.yaml", "--platform", "console"]
    return subprocess.Popen([*command, "--channel", "general"], cwd=tmp_path, env=env, **streams)


def test_the_readme_example_typed_in_the_terminal(tmp_path: Path) -> None:
    """``chathost run --platform console --channel general`` as a person runs it: the lines
    typed one by one, the chat's posts printed, then stopped (SIGTERM)."""
    process = terminal_on_general(
        tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    printed: list[str] = []
    try:
        for line in README_EXAMPLE:
            process.stdin.write(line + "\n")
            process.stdin.flush()
        deadline = time.monotonic() + 60  # a guard against a hang, not a timing
        while not any("Thank you bob for taking part!" in line for line in printed):
            assert time.monotonic() < deadline, "".join(printed)
            line = process.stdout.readline()
            assert line, "".join(printed)
            printed.append(line)
    finally:
        process.terminate()
        process.communicate(timeout=30)
    shown = "".join(printed)
    assert "#general" in shown and "Welcome to Panel: AI in schools!" in shown
    assert "(to kate) Started Panel: AI in schools #aichat." in shown
    assert "#general ❓ Q1: What worries you most? #aichat" in shown
    assert "(to kate) Posted Q1." in shown
    assert "#general 📝 Recap: Panel: AI in schools #aichat" in shown


def test_rehearse_adhoc_plays_a_spontaneous_chat_from_its_replies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    replies = ROOT / "examples" / "adhoc-replies.yaml"
    argv = ["rehearse", str(ROOT / "chats.yaml"), "--adhoc", "--replies", str(replies)]
    assert main([*argv, "--speed", "max", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "#general ❓ Q1: What worries you most? #aichat" in printed
    assert "(to marco) Posted Q2." in printed
    doc = json.loads((out / "run.json").read_text())
    assert doc["chat"]["title"] == "Panel: AI in schools"
    assert [q["id"] for q in doc["questions"]] == ["Q1", "Q2"]
    assert doc["stats"]["answers_per_question"] == {"Q1": 4, "Q2": 2}
    assert "# Panel: AI in schools #aichat" in (out / "summary.md").read_text()


def test_rehearse_adhoc_needs_replies_that_start_a_chat(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text('- {at: "00:10", user: bob, text: "A1 hello"}\n')
    argv = ["rehearse", str(ROOT / "chats.yaml"), "--adhoc", "--replies", str(replies)]
    assert main(argv) == ExitCode.BAD_INPUT
    assert capsys.readouterr().err.startswith("--adhoc rehearses a spontaneous chat: the replies")
    with pytest.raises(SystemExit) as both:
        main([*argv, "--chat", "tuesday-tea"])
    assert both.value.code == ExitCode.BAD_SETTINGS  # argparse: not allowed with --adhoc


def test_rehearse_adhoc_whose_startchat_is_refused_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """alice may not start one: the rehearsal says so and why (exit 1), not "a bug" (70)."""
    replies = tmp_path / "replies.yaml"
    replies.write_text(
        '- {at: "00:00", user: alice, text: "/startchat Panel"}\n'
        '- {at: "00:30", user: kate, text: "/ask What now?"}\n'
    )
    argv = ["rehearse", str(ROOT / "chats.yaml"), "--adhoc", "--replies", str(replies)]
    assert main([*argv, "--speed", "max", "--out", str(tmp_path / "out")]) == ExitCode.BAD_INPUT
    # (the logging of an earlier main() in this process may write to a stream since closed)
    [line] = [s for s in capsys.readouterr().err.splitlines() if s.startswith("--adhoc:")]
    assert line.startswith("--adhoc: the replies' /startchat Panel by alice started no chat")
    assert "Only kate, marco, role:Moderators can start a spontaneous chat." in line


def test_ctrl_d_in_the_terminal_stops_chathost_and_piped_input_running_out_says_so(
    tmp_path: Path,
) -> None:
    """Ctrl-D typed in a terminal (a pty here) stops chathost as Ctrl-C does (exit 0); input
    piped in that runs out leaves the chats running and says how to stop it."""
    import pty
    import select

    main_end, terminal = pty.openpty()
    process = terminal_on_general(
        tmp_path, stdin=terminal, stdout=terminal, stderr=subprocess.DEVNULL
    )
    os.close(terminal)
    shown = b""
    try:
        os.write(main_end, README_EXAMPLE[0].encode() + b"\n")
        deadline = time.monotonic() + 60  # a guard against a hang, not a timing
        while b"(to kate) Started" not in shown:
            assert time.monotonic() < deadline, shown
            if select.select([main_end], [], [], 0.5)[0]:
                shown += os.read(main_end, 4096)
        os.write(main_end, b"\x04")  # Ctrl-D
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_end)

    piped = terminal_on_general(
        tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert piped.stdin is not None and piped.stdout is not None
    try:
        piped.stdin.write(README_EXAMPLE[0] + "\n")
        piped.stdin.close()  # the input runs out
        said = [piped.stdout.readline() for _ in range(2)]  # the answer, then the end
        assert said[-1] == "(end of input: the chats go on; Ctrl-C stops chathost)\n", said
        assert piped.poll() is None  # still running the chat
    finally:
        piped.terminate()
        piped.wait(timeout=30)
