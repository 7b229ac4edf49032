"""The sample async chat (examples/async-chat.yaml) rehearsed at --speed max: five days in
seconds, replies at offsets in days, and run.json with each question's window and what was
sent besides the posts."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.console.replies import load_replies
from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("async") / "slow"
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = main(
            [
                "rehearse",
                str(EXAMPLES / "async-chat.yaml"),
                "--chat",
                "slow-learning",
                "--replies",
                str(EXAMPLES / "async-replies.yaml"),
                "--speed",
                "max",
                "--out",
                str(out),
            ]
        )
    assert code == 0
    return json.loads((out / "run.json").read_text()), printed.getvalue()


def test_replies_accept_offsets_in_days() -> None:
    replies = load_replies(EXAMPLES / "async-replies.yaml")
    offsets = {r.text[:12]: r.at for r in replies}
    assert offsets["My mentor, i"] == timedelta(days=1, minutes=20)  # "1d 00:20:00"
    assert offsets["A2 The whole"] == timedelta(hours=26, minutes=30)  # "26:30:00"


def test_run_json_has_each_questions_window_and_what_was_sent(played) -> None:
    doc, _ = played
    windows = [(q["id"], q["opened_at"], q["closed_at"]) for q in doc["questions"]]
    assert windows == [
        ("Q1", "2026-12-07T09:00:00+00:00", "2026-12-09T09:00:00+00:00"),
        ("Q2", "2026-12-08T09:00:00+00:00", "2026-12-10T09:00:00+00:00"),
        ("Q3", "2026-12-09T09:00:00+00:00", "2026-12-12T09:00:00+00:00"),
    ]
    stats = doc["stats"]
    assert (stats["nudges"], stats["reminders"], stats["digests"]) == (0, 5, 5)
    assert stats["answers_per_question"] == {"Q1": 3, "Q2": 4, "Q3": 3}
    assert doc["run"]["state"] == "summarised"


def test_the_terminal_shows_closing_notes_reminders_and_digests(played) -> None:
    _, printed = played
    assert "🔒 Q1 is closed: 3 answers from 3 people. Thank you!" in printed
    assert "DM to dan: Hi dan! Q1 of Slow chat: learning at work closes Wed 09 Dec" in printed
    assert printed.count("📰 Today in Slow chat: learning at work:") == 5
    assert printed.index("Q3 is closed") < printed.index("Recap: Slow chat")
