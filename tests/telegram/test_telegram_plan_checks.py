"""``chathost validate`` names the mistakes that are mistakes only on a platform: a Telegram
``channel:`` that Telegram cannot find, a role Telegram never tells a bot about, and
``events: true`` on a platform with no scheduled events (only Discord's plugin keeps them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.errors import ExitCode

CHAT = """  - id: {id}
    title: T
    platform: {platform}
    channel: {channel}
    hosts: [{hosts}]
    events: {events}
    schedule: {{start: 2030-01-01 19:00, duration: 1h}}
    questions: [{{id: Q1, at: 5m, text: hi}}]
"""


def validate(tmp_path: Path, *chats: dict[str, str]) -> int:
    defaults = {"platform": "telegram", "hosts": '"@kate"', "events": "false"}
    text = "chats:\n" + "".join(CHAT.format(**(defaults | c)) for c in chats)
    path = tmp_path / "chats.yaml"
    path.write_text(text)
    return main(["validate", str(path)])


def test_telegram_channels_and_roles_it_cannot_use_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = validate(
        tmp_path,
        {"id": "name", "channel": "teachat"},
        {"id": "minus", "channel": "1001234567890"},
        {"id": "role", "channel": '"-1001234567890"', "hosts": '"role:Moderators"'},
        {"id": "good", "channel": '"@teachat"', "hosts": '"role:admins", 42, "@kate"'},
        {"id": "bare", "channel": "-1001234567890", "hosts": '"role:owner"'},
    )
    err = capsys.readouterr().err.splitlines()
    assert code == ExitCode.BAD_INPUT
    assert [line.split(" ", 2)[1] for line in err] == [
        "chats[0].channel:",
        "chats[1].channel:",
        "chats[2].hosts[0]:",
    ]
    assert '"teachat" is not a Telegram group id or @username' in err[0]
    assert "a Telegram group's id is negative (-100...)" in err[1]
    assert "use role:admins or role:owner" in err[2]


def test_events_true_where_the_platform_keeps_no_scheduled_events_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = validate(
        tmp_path,
        {"id": "slack", "platform": "slack", "channel": "general", "events": "yes"},
        {"id": "tg", "channel": '"@teachat"', "events": "true"},
        {"id": "discord", "platform": "discord", "channel": "general", "events": "true"},
    )
    err = capsys.readouterr().err.splitlines()
    assert code == ExitCode.BAD_INPUT
    assert [line.split(" ", 2)[1] for line in err] == ["chats[0].events:", "chats[1].events:"]
    assert err[0].endswith(
        "slack has no scheduled events of its own for events: true to keep: remove it (a "
        "calendar of the chats comes from chathost calendar, or the archive's /calendar.ics)"
    )
