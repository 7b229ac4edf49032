"""The Jinja2 environment shared by the HTML export and the archive: autoescape always on.

Messages may contain HTML, emoji and right-to-left text: every piece of user text goes
through autoescape; ``linkify`` escapes first and only then wraps http(s) URLs in links.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.core.recap import MessageView, plural, thanks_text
from bot.core.text import URL

TEMPLATES = Path(__file__).parent / "templates"


def linkify(text: str) -> Markup:
    """User text, escaped, with its http(s) links clickable (and marked as not ours)."""
    if "http" not in text:  # no link possible: most messages
        return escape(text)
    out: list[str] = []
    last = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        end = match.start() + len(url)
        out.append(str(escape(text[last : match.start()])))
        out.append(f'<a href="{escape(url)}" rel="nofollow noopener noreferrer">{escape(url)}</a>')
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


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


def message_html(m: MessageView, zone: ZoneInfo) -> Markup:
    """One message as the recap page lists it (the ``<li>`` of ``_run.html``'s lists)."""
    return Markup(_message_li(m, zone))


def messages_html(messages: Iterable[MessageView], zone: ZoneInfo) -> Markup:
    """The ``<li>`` of every message, one after the other, as one piece of markup.

    Built here rather than in a template because a page lists every message of its run: a
    Jinja2 macro call per message cost ~20 µs, an include more, so a 50,000-message page
    took over a second. One call per list, not per message: autoescape copies every value a
    template outputs, even markup. Every piece of text is escaped as autoescape would escape
    it; tests/recap/test_message_html.py checks the markup against the template it replaced.
    """
    return Markup("".join([_message_li(m, zone) for m in messages]))


def _message_li(m: MessageView, zone: ZoneInfo) -> str:
    badge = '<span class="badge">host</span>' if m.is_host else ""
    notes = (
        ('<span class="note">(edited)</span>' if m.edited else "")
        + ('<span class="note">↩ reply</span>' if m.reply_to else "")
        + ('<span class="note">in thread</span>' if m.thread_id else "")
    )
    if m.reactions:
        chips = "".join(
            f'<span title="{_esc(", ".join(users))}">{_esc(emoji(name))} {len(users)}</span>'
            for name, users in m.reactions.items()
        )
        notes += f'    <div class="reactions">{chips}</div>\n'
    here = m.created_at.astimezone(zone)  # the ``clock`` filter's %H:%M, without strftime
    text = linkify(m.text) if "http" in m.text else _esc(m.text)
    # An ISO time and two-digit numbers need no escaping.
    return (
        f'<li class="message {"host" if m.is_host else "answer"}"'
        f' data-message="{_esc(m.message_id)}" data-kind="{_esc(m.kind)}">\n'
        f'  <span class="time" title="{m.created_at.isoformat()}">'
        f"{here.hour:02d}:{here.minute:02d}</span>\n"
        "  <div>\n"
        f'{badge}<span class="who" dir="auto">{_esc(m.user_name)}</span>\n'
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
    return env
