"""The rehearsal: the sample chat played at --speed max, checked through run.json."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, str]:
    """One rehearsal of the sample chat through the CLI, shared by the tests that read it."""
    out = tmp_path_factory.mktemp("rehearsal") / "demo"
    printed_to = io.StringIO()
    with redirect_stdout(printed_to):
        code = main([
            "rehearse", str(ROOT / "chats.yaml"), "--chat", "tuesday-tea",
            "--replies", str(ROOT / "examples" / "replies.yaml"), "--speed", "max", "--out", str(out),
        ])
    assert code == 0
    printed = printed_to.getvalue()
    # the word cloud that went with the posted recap is written beside it, and named on screen
    assert (out / "wordcloud.png").read_bytes().startswith(b"\x89PNG")
    assert "📎 wordcloud.png" in printed
    return json.loads((out / "run.json").read_text()), (out / "summary.md").read_text(), printed


def test_run_json_counts_match_the_replies_file(demo) -> None:
    doc, _, _ = demo
    # 40 entries: 6 are commands, 1 message is deleted later -> 33 stored messages.
    assert doc["stats"]["messages"] == 33
    # alice bob carol dan erin frank; the hosts kate and marco are not participants.
    assert doc["stats"]["participants"] == 6
    assert [len(q["replies"]) for q in doc["questions"]] == [6, 7, 4, 4, 5]
    assert doc["run"]["state"] == "summarised"
    assert doc["chat"]["id"] == "tuesday-tea"
    # what was sent besides the posts, and when each question stopped being the open one
    stats = doc["stats"]
    assert (stats["nudges"], stats["reminders"], stats["digests"]) == (4, 0, 0)
    closed = [q["closed_at"] for q in doc["questions"]]
    assert closed[:-1] == [q["opened_at"] for q in doc["questions"][1:]]
    assert closed[-1] == doc["run"]["ended_at"]
    counts = {p["user"]: p["messages"] for p in doc["participants"]}
    assert counts["alice"] == 9 and counts["frank"] == 1  # frank's second message was deleted
    assert [m["text"] for m in doc["unattributed"]] == [
        "Kettle's on! We start in a few minutes.",
        "Hi all, Alice from Leeds, first time here!",
        "Evening! Bob, teacher in Cork.",
        "Hello from Toronto, lunchtime here",
        "Dan here, instructional designer, Lisbon",
    ]


def test_run_json_reflects_threads_labels_edits_and_reactions(demo) -> None:
    doc, _, _ = demo
    q1, q2, q3 = doc["questions"][:3]
    erin = next(r for r in q1["replies"] if r["user"] == "erin")
    assert erin["edited"] and "rough drafts too" in erin["text"]
    assert any(r["text"].startswith("Time. Nobody budgets") and r["reason"] == "thread" for r in q2["replies"])
    assert any(r["text"] == "A2 also imposter syndrome" and r["reason"] == "label" for r in q2["replies"])
    assert any(r["text"].startswith("Team wiki") for r in q3["replies"])
    top = q1["highlights"][0]
    assert next(r for r in q1["replies"] if r["id"] == top)["user"] == "alice"


def test_themes_are_characteristic_words(demo) -> None:
    doc, _, _ = demo
    themes = doc["themes"]
    assert themes[0] == "reflection"
    assert not {"teachat", "#teachat", "a1", "q2", "the", "and"} & set(themes)


def test_terminal_shows_the_chat_as_participants_see_it(demo) -> None:
    _, summary, printed = demo
    for line in ("Q1: What does learning out loud mean to you?", "Only the hosts of", "DM to bob"):
        assert line in printed
    assert printed.index("Q1: What does") < printed.index("Q2: What stops") < printed.index("Recap:")
    assert summary.startswith("# Tuesday Tea: learning out loud #teachat")
    assert "## Q3: Which tools help you share what you learn?" in summary


def test_rehearse_reports_a_broken_replies_file(tmp_path: Path, capsys) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text('- {at: "1:00", user: ann, text: hi}\n- {at: "soon", user: bob, text: x, colour: red}\n')
    code = main(["rehearse", str(ROOT / "chats.yaml"), "--chat", "tuesday-tea", "--replies", str(replies), "--speed", "max"])
    assert code == 1
    err = capsys.readouterr().err
    assert f'{replies}:2:8 [1].at: "soon" is not a duration' in err
    assert f"{replies}:2:36 [1].colour: unknown key 'colour'" in err


def test_a_reply_edited_or_deleted_before_it_is_sent_is_a_mistake_in_the_file(
    tmp_path: Path, capsys
) -> None:
    """``delete_at: "00:30"`` on a message sent at 01:00 deleted nothing, then the message
    counted in the recap though the file meant it gone; the file is refused, with where."""
    replies = tmp_path / "replies.yaml"
    replies.write_text(
        '- {at: "01:00", user: ann, text: "A1 hi", delete_at: "00:30"}\n'
        '- {at: "02:00", user: bob, text: "A1 yo", edit: "A1 yes", edit_at: "01:59"}\n'
    )
    argv = ["rehearse", str(ROOT / "chats.yaml"), "--chat", "tuesday-tea", "--replies"]
    assert main([*argv, str(replies), "--speed", "max"]) == 1
    err = capsys.readouterr().err
    assert f"{replies}:1:54 [0].delete_at: comes before the message is sent (at: 01:00)" in err
    assert f"{replies}:2:68 [1].edit_at: comes before the message is sent (at: 02:00)" in err


def test_people_in_a_replies_file_may_be_numeric_ids(tmp_path: Path) -> None:
    """``user: 12345`` (a Telegram id, read by YAML as a number) was refused as "not a valid
    string"; it is the person 12345, as in the plan's hosts."""
    replies = tmp_path / "replies.yaml"
    replies.write_text('- {at: "06:00", user: 12345, text: "A1 hi", reactions: {"+1": [678]}}\n')
    out = tmp_path / "out"
    argv = ["rehearse", str(ROOT / "chats.yaml"), "--chat", "tuesday-tea", "--replies"]
    assert main([*argv, str(replies), "--speed", "max", "--out", str(out)]) == 0
    doc = json.loads((out / "run.json").read_text())
    [reply] = doc["questions"][0]["replies"]
    assert (reply["user"], reply["reactions"]) == ("12345", {"+1": ["678"]})


def test_rehearse_names_an_unknown_chat(capsys) -> None:
    assert main(["rehearse", str(ROOT / "chats.yaml"), "--chat", "nope", "--speed", "max"]) == 1
    assert "no chat 'nope' in the plan (chats: tuesday-tea, chat2lrn, dev-thursday)" in capsys.readouterr().err


def test_run_says_which_tokens_are_missing(monkeypatch, capsys) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(Settings, "model_config", {**Settings.model_config, "env_file": None})
    assert main(["run", str(ROOT / "chats.yaml")]) == 2
    err = capsys.readouterr().err
    assert "discord (chats: dev-thursday) needs DISCORD_TOKEN" in err
    assert "slack (chats: chat2lrn) needs SLACK_BOT_TOKEN, SLACK_APP_TOKEN" in err


async def test_console_adapter_takes_typed_lines(store, clock) -> None:
    from bot.adapters.console.live import ConsoleAdapter
    from bot.core.engine import Engine
    from bot.core.service import ChatService
    from tests.conftest import T0
    from tests.support import make_plan

    out = io.StringIO()
    adapter = ConsoleAdapter(clock, "teachat", out=out)
    engine = Engine(make_plan(), store, lambda _: adapter.port, clock)
    service = ChatService(engine)
    await engine.start()
    clock.set(T0.replace(minute=34))
    await adapter.feed(service, "kate: /startchat")
    await adapter.feed(service, "kate: /nextq")
    await adapter.feed(service, "ann: A1 typed in the terminal")
    await adapter.feed(service, "no colon here")
    text = out.getvalue()
    assert "Started Tea Chat" in text and "Q1: What brought you here?" in text
    assert "type  name: message" in text
    runs = await store.runs_for_chat("tea")
    assert [m.question_id for m in await store.run_messages(runs[0].id)] == ["Q1"]
