"""The command table is the one declaration of the commands: the core parses against it, and
the Slack manifest and the README's table say exactly what it says."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.adapters.slack.commands import HIGHLIGHT_SHORTCUT, SHORTCUTS
from bot.adapters.slack.manifest import MANIFEST, shortcut, slash_command, with_commands
from bot.core.commands import COMMANDS, ArgumentsRefused, command_named, message_ids, parse_args
from bot.core.commands.dispatch import CHAT_HANDLERS, PERSON_HANDLERS

ROOT = Path(__file__).resolve().parents[2]
CHAT_IDS = ("tea", "coffee")


def spec(name: str):  # type: ignore[no-untyped-def]
    found = command_named(name)
    assert found is not None
    return found


def test_the_slack_manifest_on_disk_declares_the_tables_commands() -> None:
    text = MANIFEST.read_text()
    assert with_commands(text) == text, "run `make manifest`"
    declared = yaml.safe_load(text)["features"]["slash_commands"]
    assert declared == [slash_command(s) for s in COMMANDS]
    assert [c["command"] for c in declared][:3] == ["/startchat", "/nextq", "/skipq"]
    extend = next(c for c in declared if c["command"] == "/extendchat")
    assert extend["usage_hint"] == "[duration] [chat]"
    assert extend["description"].startswith("Hosts: ")
    shortcuts = yaml.safe_load(text)["features"]["shortcuts"]
    assert shortcuts == [shortcut(s) for s in COMMANDS if s.menu]
    assert [(s["name"], s["callback_id"]) for s in shortcuts] == [
        ("Highlight in recap", HIGHLIGHT_SHORTCUT)
    ]
    assert SHORTCUTS == {HIGHLIGHT_SHORTCUT: "highlight"}  # the one the Slack app listens to


def test_rewriting_the_manifest_keeps_everything_around_the_commands() -> None:
    text = MANIFEST.read_text()
    stale = text.replace('"/forgetme"', '"/forgetyou"').replace('name: "Highlight in', 'name: "Pick for')
    assert stale.count("forgetyou") == 1 and "Pick for recap" in stale
    assert with_commands(stale) == text


def readme_commands() -> list[tuple[str, str, str]]:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| command | who | what it does |\n|---|---|---|\n", 1)[1]
    rows = []
    for line in table.splitlines():
        if not line.startswith("|"):
            break
        usage, who, what = (cell.strip() for cell in line.strip("|").split("|"))
        rows.append((usage.strip("`"), who, what))
    return rows


def test_the_readme_table_lists_each_command_with_its_args_who_and_help() -> None:
    assert readme_commands() == [(s.usage, s.who.value, s.help) for s in COMMANDS]


def test_every_command_has_one_handler_and_platform_sized_help() -> None:
    chat_commands = {s.name for s in COMMANDS if s.in_chat}
    assert set(CHAT_HANDLERS) == chat_commands
    assert set(PERSON_HANDLERS) == {s.name for s in COMMANDS} - chat_commands
    for s in COMMANDS:  # Discord refuses a tree with longer descriptions, names or choices
        assert re.fullmatch(r"[a-z]{1,32}", s.name)
        assert len(s.description) <= 100, s.name
        assert all(len(a.help) <= 100 and re.fullmatch(r"[a-z]{1,32}", a.name) for a in s.args)


def test_a_bare_number_is_minutes_and_a_chat_id_may_stand_anywhere() -> None:
    extend = spec("extendchat")
    assert parse_args(extend, "15", CHAT_IDS).duration("duration") == timedelta(minutes=15)
    for text in ("tea 1h30m", "1h30m tea"):
        args = parse_args(extend, text, CHAT_IDS)
        assert args.text("chat") == "tea"
        assert args.duration("duration") == timedelta(hours=1, minutes=30)
    assert parse_args(extend, "", CHAT_IDS).values == {}
    assert parse_args(spec("NextQ"), "coffee", CHAT_IDS).text("chat") == "coffee"


@pytest.mark.parametrize(
    ("name", "text", "refusal"),
    [
        ("extendchat", "soon", '"soon" is not a duration'),
        ("extendchat", "15 tee", "tee is not a chat in the plan (chats: coffee, tea)"),
        ("nextq", "tee", "tee is not a chat in the plan (chats: coffee, tea)"),
        ("nextq", "tea coffee", 'I did not expect "coffee" after /nextq'),
        ("highlight", "", "/highlight needs its message."),
        ("quietchat", "maybe", '"maybe" is not an option of /quietchat: /quietchat [off]'),
        ("chats", "tomorrow", 'I did not expect "tomorrow" after /chats. Use it as /chats'),
    ],
)
def test_what_does_not_fit_is_refused_saying_how_to_use_it(
    name: str, text: str, refusal: str
) -> None:
    with pytest.raises(ArgumentsRefused) as refused:
        parse_args(spec(name), text, CHAT_IDS)
    assert refusal in str(refused.value)


def test_switches_and_message_ids() -> None:
    assert parse_args(spec("quietchat"), "OFF", CHAT_IDS).switch("undo")
    assert not parse_args(spec("quietchat"), "", CHAT_IDS).switch("undo")
    highlight = spec("highlight")
    assert parse_args(highlight, "tea", CHAT_IDS).text("message") == "tea"  # no chat argument

    def read(word: str) -> str | None:
        return word.rsplit("/", 1)[1] if word.startswith("https://") else None

    assert message_ids(highlight, "https://x.example/c/123", read) == "123"
    assert message_ids(highlight, "123", read) == "123"
    assert message_ids(spec("nextq"), "https://x.example/c/123", read) == "https://x.example/c/123"
