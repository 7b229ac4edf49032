"""Slack's message markup is turned into plain text in the adapter, so the core (links,
themes, exports) reads what people read and knows no Slack syntax."""

from __future__ import annotations

import pytest

from bot.adapters.slack.translate import plain_text, translate
from bot.core.events import IncomingMessage, MessageEdited
from bot.core.text import links, words


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("see <https://x.example|the docs>", "see the docs (https://x.example)"),
        ("<https://x.example/a?b=1&amp;c=2>", "https://x.example/a?b=1&c=2"),
        ("<http://example.com|example.com>", "http://example.com"),
        ("thanks <@U0001> and <@U0002|kate>", "thanks @U0001 and @kate"),
        ("in <#C0001|general> or <#C0002>", "in #general or #C0002"),
        ("<!here> <!channel> <!subteam^S1|@tea-team>", "@here @channel @tea-team"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014> works", "Feb 18, 2014 works"),
        ("mail <mailto:ann@example.org|ann@example.org>", "mail ann@example.org"),
        ("Q&amp;A: 1 &lt; 2 &gt; 0, &amp;lt; stays", "Q&A: 1 < 2 > 0, &lt; stays"),
        ("A1 nothing to change", "A1 nothing to change"),
    ],
)
def test_markup_becomes_what_people_read(slack: str, plain: str) -> None:
    assert plain_text(slack) == plain


def test_the_core_finds_the_same_links_and_words_in_the_plain_text() -> None:
    text = plain_text("A2 <@U1> <#C0123|general> see <https://x.example/guide|the guide>.")
    assert links(text) == ["https://x.example/guide"]
    assert words(text) == ["general", "guide"]


def test_messages_and_edits_reach_the_core_as_plain_text() -> None:
    said = translate(
        {
            "type": "message",
            "channel": "C1",
            "user": "U1",
            "ts": "1700000000.000100",
            "text": "A1 <https://x.example|notes> &amp; more",
        }
    )
    assert isinstance(said, IncomingMessage)
    assert said.text == "A1 notes (https://x.example) & more"
    edited = translate(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "ts": "1700000001.000100",
            "message": {"ts": "1700000000.000100", "user": "U1", "text": "A1 <@U2> agreed"},
        }
    )
    assert isinstance(edited, MessageEdited) and edited.text == "A1 @U2 agreed"
