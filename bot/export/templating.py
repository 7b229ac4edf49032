"""The Jinja2 environment shared by the HTML export and the archive: autoescape always on.

Messages may contain HTML, emoji and right-to-left text: every piece of user text goes
through autoescape; ``linkify`` escapes first and only then wraps http(s) URLs in links.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from bot.core.recap import plural, thanks_text
from bot.core.text import URL

TEMPLATES = Path(__file__).parent / "templates"


def linkify(text: str) -> Markup:
    """User text, escaped, with its http(s) links clickable (and marked as not ours)."""
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


def environment(*extra_dirs: Path) -> Environment:
    """Templates from ``extra_dirs`` first (the archive's pages), then the export's."""
    env = Environment(
        loader=FileSystemLoader([*extra_dirs, TEMPLATES]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["linkify"] = linkify
    env.filters["emoji"] = emoji
    env.filters["clock"] = local_time
    env.filters["day"] = local_day
    env.globals["plural"] = plural
    env.globals["thanks_text"] = thanks_text
    return env
