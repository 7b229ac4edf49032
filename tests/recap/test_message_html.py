"""``message_html`` (bot/export/templating.py) writes exactly what the template it replaced
wrote: the recap page lists every message of a run, so the markup is built in Python for
speed, and this keeps it byte for byte equal to the Jinja2 template, escaping included."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.recap import MessageView
from bot.export.templating import environment, message_html, messages_html

# The template of one message as bot/export/templates/_message.html had it.
TEMPLATE = """\
<li class="message {{ 'host' if m.is_host else 'answer' }}" data-message="{{ m.message_id }}" \
data-kind="{{ m.kind }}">
  <span class="time" title="{{ m.created_at.isoformat() }}">{{ m.created_at | clock(zone) }}</span>
  <div>
    {% if m.is_host %}<span class="badge">host</span>{% endif %}<span class="who" dir="auto">\
{{ m.user_name }}</span>
    <span class="text" dir="auto">{{ m.text | linkify }}</span>
    {% if m.edited %}<span class="note">(edited)</span>{% endif %}
    {% if m.reply_to %}<span class="note">↩ reply</span>{% endif %}
    {% if m.thread_id %}<span class="note">in thread</span>{% endif %}
    {% if m.reactions %}
    <div class="reactions">{% for emoji, users in m.reactions.items() %}<span title="\
{{ users | join(', ') }}">{{ emoji | emoji }} {{ users | length }}</span>{% endfor %}</div>
    {% endif %}
  </div>
</li>
"""

TEXTS = [
    "A1 plain answer",
    "<script>alert('x')</script> & \"quotes\"",
    "see https://example.org/a?b=1&c=<2> and http://x.y/z.",
    "RTL: שלום עולם 🎉",
    "",
]
REACTIONS: list[dict[str, tuple[str, ...]]] = [
    {},
    {"+1": ("alice", "bob"), "heart": ("carol",)},
    {"custom<emoji>": ("o'brien", 'say "hi"'), "🔥": ("dan",), "my-emoji_2": ("x&y",)},
]


def views() -> list[MessageView]:
    flags = itertools.product([False, True], repeat=4)
    out = []
    for n, ((host, edited, reply, thread), text, reactions) in enumerate(
        itertools.product(flags, TEXTS, REACTIONS)
    ):
        out.append(
            MessageView(
                id=n,
                message_id=f"m{n}<&>'\"",
                user_id="u1",
                user_name="Zoë <b>O'Neil</b> & co",
                text=text,
                created_at=datetime(2026, 12, 1, 23, 59, 30, 123456, tzinfo=UTC),
                kind="host" if host else "answer<x>",
                reply_to="p1" if reply else None,
                thread_id="t1" if thread else None,
                edited=edited,
                reactions=reactions,
            )
        )
    return out


@pytest.mark.parametrize("zone", [ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")])
def test_message_html_equals_the_template_it_replaced(zone: ZoneInfo) -> None:
    template = environment().from_string(TEMPLATE.rstrip("\n"))
    expected = [template.render(m=view, zone=zone) for view in views()]
    assert [str(message_html(view, zone)) for view in views()] == expected
    assert str(messages_html(views(), zone)) == "".join(expected)
