"""Rehearsing a chat whose date has passed plays it at its own date; --at picks any start, in
the chat's zone, across daylight-saving changes; validate and run say when nothing will be
scheduled again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.plan import parse_plan
from bot.core.recurrence import past_start_notices

PAST = """
timezone: Europe/London
chats:
  - id: old
    title: Old chat
    platform: console
    channel: teachat
    hosts: [kate]
    schedule: {start: "2026-10-20 19:30", duration: 30m}
    questions:
      - {id: Q1, at: 5m, text: "What brought you here?"}
      - {id: Q2, at: 15m, text: "What next?"}
"""
REPLIES = """
- {at: "06:00", user: ann, text: "A1 curiosity"}
- {at: "16:00", user: bob, text: "A2 more tea"}
- {at: "17:00", user: cy, text: "and biscuits"}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "chats.yaml").write_text(PAST)
    (tmp_path / "replies.yaml").write_text(REPLIES)
    return tmp_path


def rehearse(files: Path, *extra: str) -> dict:
    out = files / "out"
    code = main([
        "rehearse", str(files / "chats.yaml"), "--chat", "old", "--replies",
        str(files / "replies.yaml"), "--speed", "max", "--out", str(out), *extra,
    ])
    assert code == 0
    return json.loads((out / "run.json").read_text())


def test_a_chat_whose_date_has_passed_is_rehearsed_at_its_own_date(files: Path, capsys) -> None:
    doc = rehearse(files)
    printed = capsys.readouterr().out
    assert "not recorded" not in printed
    assert doc["run"]["scheduled_start"] == "2026-10-20T18:30:00+00:00"  # 19:30 BST
    assert doc["stats"]["messages"] == 3 and doc["stats"]["answers_per_question"] == {"Q1": 1, "Q2": 2}
    # what to give export and serve to look at it afterwards
    assert f"--db sqlite:///{files / 'out' / 'rehearsal.db'}" in printed
    assert main(["export", "latest", "--db", str(files / "out" / "rehearsal.db")]) == 0
    assert "# Old chat" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("at", "utc"),
    [
        ("2026-12-24 18:00", "2026-12-24T18:00:00+00:00"),  # winter: GMT
        ("2026-07-01 18:00", "2026-07-01T17:00:00+00:00"),  # summer: BST
        ("2026-03-29 01:30", "2026-03-29T01:30:00+00:00"),  # in the spring gap: moves to 02:30 BST
        ("2026-10-25 01:30", "2026-10-25T00:30:00+00:00"),  # the autumn repeat: the first 01:30
    ],
)
def test_at_picks_a_start_in_the_chats_zone(files: Path, at: str, utc: str) -> None:
    doc = rehearse(files, "--at", at)
    assert doc["run"]["scheduled_start"] == utc
    assert doc["stats"]["messages"] == 3


def test_validate_warns_that_a_past_one_off_will_not_be_scheduled(files: Path, capsys) -> None:
    assert main(["validate", str(files / "chats.yaml")]) == 0
    captured = capsys.readouterr()
    assert "OK (1 chats: old)" in captured.out
    assert "warning: chat 'old': its last start (2026-10-20 19:30 Europe/London) has passed" in captured.err


def test_the_notice_is_given_once_per_ended_chat_and_not_while_it_runs() -> None:
    plan = parse_plan(PAST + """
  - id: weekly
    title: Weekly
    channel: teachat
    hosts: [kate]
    schedule: {rrule: "FREQ=WEEKLY;BYDAY=TU;BYHOUR=19", duration: 1h}
    questions: [{id: Q1, at: 5m, text: "Hi"}]
  - id: ended
    title: Ended
    channel: teachat
    hosts: [kate]
    schedule: {start: "2026-01-06 19:00", rrule: "FREQ=WEEKLY;UNTIL=20260301T000000", duration: 1h}
    questions: [{id: Q1, at: 5m, text: "Hi"}]
""")
    later = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    notices = past_start_notices(plan.chats, later)
    assert [n.split("'")[1] for n in notices] == ["old", "ended"]
    assert "(2026-02-24 19:00 Europe/London)" in notices[1]
    during = datetime(2026, 10, 20, 18, 40, tzinfo=UTC)  # the old chat is on right now
    assert past_start_notices(plan.chats[:1], during) == []


def test_run_says_once_that_a_past_one_off_chat_will_not_be_scheduled(
    files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bot.runner

    started: list[object] = []

    async def run_forever(app: object) -> None:  # the bot itself is not what this is about
        started.append(app)

    monkeypatch.setattr(bot.runner.App, "run_forever", run_forever)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{files / 'run.db'}")
    assert main(["run", str(files / "chats.yaml"), "--platform", "console"]) == 0
    err = capsys.readouterr().err
    notice = "chat 'old': its last start (2026-10-20 19:30 Europe/London) has passed"
    assert err.count(notice) == 1, err
    assert started  # a warning, not a refusal: the bot still starts
