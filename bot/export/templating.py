"""The Jinja2 environment shared by the HTML export and the archive: autoescape always on.

Messages may contain HTML, emoji and right-to-left text: every piece of user text goes
through autoescape; ``linkify`` escapes first and only then wraps http(s) URLs in links.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.core import wording as say
from bot.core.recap import MessageView, iso_times, plural, thanks_text
from bot.core.text import URL

TEMPLATES = Path(__file__).parent / "templates"


def linkify(text: str) -> Markup:
    """User text, escaped, with its http(s) links clickable (and marked as not ours)."""
    return Markup(_linked(text))


def _linked(text: str) -> str:
    """``linkify`` as a plain string: the message list links thousands of texts, and a
    ``Markup`` object per piece cost more than the escaping."""
    if "http" not in text:  # no link possible: most messages
        return _esc(text)
    out: list[str] = []
    last = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        shown = _esc(url)
        out.append(_esc(text[last : match.start()]))
        out.append(f'<a href="{shown}" rel="nofollow noopener noreferrer">{shown}</a>')
        last = match.start() + len(url)
    out.append(_esc(text[last:]))
    return "".join(out)


# Reaction names as Slack sends them; Discord sends the emoji itself, which passes through.
EMOJI = {
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "heart": "❤️", "star": "⭐", "star2": "🌟",
    "100": "💯", "tada": "🎉", "clap": "👏", "joy": "😂", "fire": "🔥", "eyes": "👀",
    "raised_hands": "🙌", "pray": "🙏", "bulb": "💡", "rocket": "🚀", "smile": "😄",
    "heart_eyes": "😍", "thinking_face": "🤔", "white_check_mark": "✅", "wave": "👋",
}


def emoji(name: str) -> str:
    """A reaction for display: the emoji for a known name, else ``:name:``."""
    if name in EMOJI:
        return EMOJI[name]
    return f":{name}:" if name.replace("_", "").replace("-", "").isalnum() else name


def local_time(value: datetime | None, zone: ZoneInfo, fmt: str = "%H:%M") -> str:
    return value.astimezone(zone).strftime(fmt) if value else ""


def local_day(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "not started"
    here = value.astimezone(zone)
    return f"{here:%a %d %b %Y, %H:%M} {here.tzname()}"


def _esc(text: str) -> str:
    """``markupsafe.escape`` for a plain string, the same five entities, without building a
    ``Markup`` object per piece (the message list escapes several pieces per message)."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class _Escaped(dict[str, str]):
    """``_esc`` of each value, worked out on first use: a run's 50,000 messages come from a
    few hundred people and have a handful of kinds, so most names are escaped once."""

    def __missing__(self, text: str) -> str:
        self[text] = escaped = _esc(text)
        return escaped


_HOST_BADGE = '<span class="badge">host</span>'


def message_html(m: MessageView, zone: ZoneInfo) -> Markup:
    """One message as the recap page lists it (the ``<li>`` of ``_run.html``'s lists)."""
    return Markup(_message_li(m, zone, _Escaped(), iso_times([m])))


class ListMarkup:
    """Markup as big as a run's message list, handed to a template without copies.

    A template escapes every value it outputs, and ``markupsafe.escape`` copies a ``Markup``
    twice on the way (to a plain string and back); a 50,000-message list is 17 million
    characters. This object gives its string (already escaped) to ``escape`` as it is, so
    it is copied once.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __html__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def messages_html(
    messages: Iterable[MessageView], zone: ZoneInfo, times: Mapping[int, str] | None = None
) -> ListMarkup:
    """The ``<li>`` of every message, one after the other, as one piece of markup.

    Built here rather than in a template because a page lists every message of its run: a
    Jinja2 macro call per message cost ~20 µs, an include more, so a 50,000-message page
    took over a second. One call per list, not per message: autoescape copies every value a
    template outputs, even markup. Every piece of text is escaped as autoescape would escape
    it; tests/recap/test_message_html.py checks the markup against the template it replaced.
    ``times`` are the messages' ISO times (``iso_times``) if an export has them already.
    """
    messages = list(messages)
    times = iso_times(messages) if times is None else times
    names = _Escaped()
    return ListMarkup("".join([_message_li(m, zone, names, times) for m in messages]))


def _notes(m: MessageView) -> str:
    """The notes under a message: edited, a reply, in a thread; its reactions."""
    notes = '<span class="note">(edited)</span>' if m.edited else ""
    if m.reply_to:
        notes += '<span class="note">↩ reply</span>'
    if m.thread_id:
        notes += '<span class="note">in thread</span>'
    if m.reactions:
        chips = "".join(
            f'<span title="{_esc(", ".join(users))}">{_esc(emoji(name))} {len(users)}</span>'
            for name, users in m.reactions.items()
        )
        notes += f'    <div class="reactions">{chips}</div>\n'
    return notes


def _message_li(
    m: MessageView, zone: ZoneInfo, names: _Escaped, times: Mapping[int, str]
) -> str:
    """One ``<li>``; ``names`` escapes the values that repeat (people's names, kinds)."""
    host = m.kind == "host"
    notes = _notes(m) if m.edited or m.reply_to or m.thread_id or m.reactions else ""
    here = m.created_at.astimezone(zone)  # the ``clock`` filter's %H:%M, without strftime
    text = _linked(m.text)
    # An ISO time and two-digit numbers need no escaping.
    return (
        f'<li class="message {"host" if host else "answer"}"'
        f' data-message="{_esc(m.message_id)}" data-kind="{names[m.kind]}">\n'
        f'  <span class="time" title="{times[m.id]}">'
        f"{here.hour:02d}:{here.minute:02d}</span>\n"
        "  <div>\n"
        f'{_HOST_BADGE if host else ""}<span class="who" dir="auto">{names[m.user_name]}</span>\n'
        f'    <span class="text" dir="auto">{text}</span>\n'
        f"{notes}  </div>\n"
        "</li>"
    )


def environment(*extra_dirs: Path) -> Environment:
    """Templates from ``extra_dirs`` first (the archive's pages), then the export's.

    ``auto_reload`` is off: templates ship with the code and never change while it runs, and
    checking the file's time on every use was a ``stat`` per include on big pages.
    """
    env = Environment(
        loader=FileSystemLoader([*extra_dirs, TEMPLATES]),
        auto_reload=False,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    env.filters["emoji"] = emoji
    env.filters["clock"] = local_time
    env.filters["day"] = local_day
    env.filters["messages_html"] = messages_html
    env.globals["plural"] = plural
    env.globals["thanks_text"] = thanks_text
    env.globals["say"] = say  # headings every platform says (wording.py)
    return env
