"""The adapter's pure parts, table-tested: Slack payloads -> core events, messages -> blocks."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack.blocks import (
    MAX_BLOCKS,
    MAX_SECTION,
    escape,
    recap_messages,
    render,
    reply_text,
    slack_date,
    split_text,
)
from bot.adapters.slack.translate import MalformedEvent, translate
from bot.core.events import (
    CommandReply,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    Upcoming,
)
from bot.core.ports import Outgoing
from bot.core.recap import MessageView, QuestionView, RunView, build_recap
from tests.fakes import slack_requests as sr

TS = "1796153700.000100"
AT = datetime(2026, 12, 1, 19, 35, 0, 100, tzinfo=UTC)  # TS as a time


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (sr.message_event("A1 hi", ts=TS), ("message", TS, None, "A1 hi")),
        (
            sr.message_event("in thread", ts=TS, thread_ts="1.000001"),
            ("message", TS, "1.000001", "in thread"),
        ),
        (sr.message_event("parent", ts=TS, thread_ts=TS), ("message", TS, None, "parent")),
        (
            sr.message_event("shout", ts=TS, thread_ts="1.1", subtype="thread_broadcast"),
            ("message", TS, "1.1", "shout"),
        ),
        (sr.message_event("bot says", ts=TS, bot_id="B1"), None),
        (sr.message_event("bot says", ts=TS, subtype="bot_message"), None),
        (sr.message_event("joined", ts=TS, subtype="channel_join"), None),
        (sr.message_event("in a DM", ts=TS, channel_type="im"), None),
        (
            sr.message_changed_event(ts="5.5", text="new", previous_text="old", edited_ts=TS),
            ("edit", "5.5", None, "new"),
        ),
        (sr.message_deleted_event(deleted_ts="5.5"), ("delete", "5.5", None, None)),
        (sr.reaction_event("+1", item_ts="5.5"), ("reaction", "5.5", True, "+1")),
        (sr.reaction_event("star", item_ts="5.5", added=False), ("reaction", "5.5", False, "star")),
        ({"type": "reaction_added", "user": "U1", "reaction": "x", "item": {"type": "file"}}, None),
        (sr.member_joined_event("U0001"), None),
    ],
)
def test_translate(event: dict[str, Any], expected: tuple[Any, ...] | None) -> None:
    core = translate(event)
    if expected is None:
        assert core is None
        return
    kind, message_id, extra, text = expected
    assert core is not None and core.platform == "slack" and core.message_id == message_id
    assert core.channel.id == "C0001"
    if kind == "message":
        assert isinstance(core, IncomingMessage)
        assert (core.thread_id, core.text, core.user.id) == (extra, text, "U0001")
        assert core.at == AT
    elif kind == "edit":
        assert isinstance(core, MessageEdited) and core.text == text and core.at == AT
    elif kind == "delete":
        assert isinstance(core, MessageDeleted)
    else:
        assert isinstance(core, ReactionChanged)
        assert (core.added, core.emoji) == (extra, text)


@pytest.mark.parametrize(
    "event",
    [
        {**sr.message_event("x"), "ts": 12},
        {**sr.message_event("x"), "ts": "soon"},
        {**sr.message_event("x"), "user": None},
        {**sr.message_event("x"), "text": ["not", "text"]},
        {k: v for k, v in sr.message_event("x").items() if k != "channel"},
        {**sr.message_changed_event(ts="1.1", text="a", previous_text="b"), "message": "gone"},
        {k: v for k, v in sr.message_deleted_event(deleted_ts="1.1").items() if k != "deleted_ts"},
        {**sr.reaction_event("star", item_ts="1.1"), "item": {"type": "message"}},
        "not an object",
    ],
)
def test_malformed_events_raise(event: Any) -> None:
    with pytest.raises(MalformedEvent):
        translate(event)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("already &amp; &lt;done&gt;", "already &amp; &lt;done&gt;"),
        ("hi <@U0001> see <#C0001|general> <!here>", "hi <@U0001> see <#C0001|general> <!here>"),
        ("<https://example.org|a link> & more", "<https://example.org|a link> &amp; more"),
    ],
)
def test_escape_keeps_slack_syntax_and_is_idempotent(text: str, escaped: str) -> None:
    assert escape(text) == escaped
    assert escape(escaped) == escaped


def test_split_text_cuts_at_line_breaks_within_the_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 50 for i in range(200))
    parts = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in parts)
    assert "\n".join(parts) == text
    assert split_text("y" * 2500, 1000) == ["y" * 1000, "y" * 1000, "y" * 500]


def test_question_blocks() -> None:
    message = Outgoing("question", "Q2: Is <b> > a? #teachat", "Tea Chat", question_id="Q2")
    [threaded] = render(message, threaded=True)
    assert threaded.text == "Q2: Is &lt;b&gt; &gt; a? #teachat"
    assert threaded.blocks[0]["text"]["text"] == "*Q2*  Is &lt;b&gt; &gt; a? #teachat"
    assert "*A2*" in threaded.blocks[1]["elements"][0]["text"]
    assert "thread" in threaded.blocks[1]["elements"][0]["text"]
    [flat] = render(message, threaded=False)
    assert "thread" not in flat.blocks[1]["elements"][0]["text"]


def _big_recap(questions: int, answers: int) -> Any:
    start = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    messages = [
        MessageView(
            id=q * 1000 + a,
            message_id=f"{q}.{a}",
            user_id=f"U{a}",
            user_name=f"person{a}",
            text=f"A{q} " + "a long and thoughtful answer " * 30,
            created_at=start,
            question_id=f"Q{q}",
            reactions={"+1": ("U900",)},
        )
        for q in range(1, questions + 1)
        for a in range(answers)
    ]
    view = RunView(
        run_id=1,
        chat_id="tea",
        title="Tea Chat",
        tag="#teachat",
        state="summarised",
        scheduled_start=start,
        started_at=start,
        ended_at=start.replace(hour=20),
        questions=[QuestionView(f"Q{q}", f"Question {q}?") for q in range(1, questions + 1)],
        messages=messages,
    )
    return build_recap(view)


def test_a_large_recap_stays_within_block_limits() -> None:
    recap = _big_recap(questions=80, answers=5)
    messages = recap_messages(recap)
    parent = messages[0]
    assert parent.blocks[0]["type"] == "header" and not parent.in_thread
    assert all(m.in_thread for m in messages[1:]) and len(messages) > 2
    for message in messages:
        assert 0 < len(message.blocks) <= MAX_BLOCKS and message.text
        for block in message.blocks:
            if block["type"] == "section" and "text" in block:
                assert len(block["text"]["text"]) <= MAX_SECTION
    shown = "\n".join(
        b["text"]["text"]
        for m in messages
        for b in m.blocks
        if b["type"] == "section" and "text" in b
    )
    assert all(f"*Q{q}*" in shown for q in range(1, 81))


def test_chats_reply_uses_slack_date_formatting() -> None:
    start = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    reply = CommandReply(
        True, "Upcoming chats: ...", upcoming=(Upcoming("tea", "Tea & Chat", start, "slack"),)
    )
    assert reply_text(reply) == (
        "Upcoming chats:\n• *Tea &amp; Chat* (tea): "
        "<!date^1796153400^{date_short_pretty} {time}|Tue 01 Dec 19:30 UTC>"
    )
    assert slack_date(start).startswith("<!date^1796153400^")
    assert reply_text(CommandReply(False, "No <chat>")) == "No &lt;chat&gt;"


def test_the_core_never_imports_slack() -> None:
    core = Path(__file__).resolve().parents[2] / "bot" / "core"
    for path in core.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] in {"slack_bolt", "slack_sdk"} for n in names), path


def test_the_manifest_matches_what_the_adapter_listens_to() -> None:
    import yaml

    from bot.adapters.slack.app import EVENTS
    from bot.adapters.slack.commands import COMMANDS, HIGHLIGHT_SHORTCUT

    root = Path(__file__).resolve().parents[2]
    manifest = yaml.safe_load((root / "config" / "slack-manifest.yaml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == set(COMMANDS)
    subscribed = {
        e.split(".")[0] for e in manifest["settings"]["event_subscriptions"]["bot_events"]
    }
    assert subscribed == set(EVENTS)
    assert manifest["settings"]["socket_mode_enabled"] is True
    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", HIGHLIGHT_SHORTCUT)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # shortcuts need it


def test_chatstatus_shows_each_open_question_closing_in_the_readers_zone() -> None:
    from datetime import UTC, datetime

    from bot.adapters.slack.blocks import reply_text
    from bot.core.events import CommandReply, Deadline

    closes = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)
    reply = CommandReply(
        True, "Slow Tea: running, Q1 open until ...", deadlines=(Deadline("Q1", closes),)
    )
    text = reply_text(reply)
    assert text.splitlines()[1] == (
        f"Q1 closes <!date^{int(closes.timestamp())}^{{date_short_pretty}} {{time}}"
        "|Thu 03 Dec 19:30 UTC>"
    )
