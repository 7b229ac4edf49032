"""Outgoing -> Telegram HTML: every user and plan text escaped, split under Telegram's sizes.

Why HTML and not MarkdownV2: HTML needs three characters escaped (``& < >``) where MarkdownV2
needs eighteen, and a missed one makes Telegram refuse the whole message ("can't parse
entities"). Sizes are counted on the escaped text, which is what Telegram measures: a chunk of
4,000 ``&`` is 20,000 characters once escaped.

The recap has a fixed layout, so an update after a restart finds every part it edits: the
headline (heading, figures, thanks), then one detail per question, then one for themes, key
phrases and links. A part longer than a message is cut at a line with an ellipsis rather than
split, because a split would change the number of parts between one rendering and the next.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.core import wording as say
from bot.core.events import User
from bot.core.recap import Recap, groups_text, headline_text, question_text, thanks_text

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
ELLIPSIS = "…"
EMPTY_PART = "—"  # Telegram refuses an empty message; a part with nothing to say shows this


def esc(text: str) -> str:
    """Text as Telegram HTML shows it literally (quotes need no escape outside attributes)."""
    return html.escape(text, quote=False)


def bold(text: str) -> str:
    return f"<b>{esc(text)}</b>"


def mention(user: User) -> str:
    """A mention that notifies: by id where we have one (works without a username), else the
    name as typed."""
    if user.id.lstrip("-").isdigit():
        return f'<a href="tg://user?id={user.id}">{esc(user.label)}</a>'
    return esc("@" + user.name.lstrip("@"))


def cut(text: str, limit: int) -> list[str]:
    """``text`` in escaped pieces of at most ``limit`` characters each, never inside an
    entity (``&amp;``): the plain text is cut, then each piece escaped."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        shown = esc(char)
        if size + len(shown) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(shown)
        size += len(shown)
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


def split(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Lines of HTML packed into messages of at most ``limit`` characters, at line breaks;
    a line that is too long on its own was already cut by ``html_lines``."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        joined = f"{current}\n{line}" if current else line
        if current and len(joined) > limit:
            chunks.append(current)
            current = line
        else:
            current = joined
    if current or not chunks:
        chunks.append(current)
    return chunks


def html_lines(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain text as escaped lines, each under ``limit`` (a long line cut in pieces)."""
    return [piece for line in text.split("\n") for piece in cut(line, limit)]


def message_chunks(text: str, prefix: str = "", limit: int = MESSAGE_LIMIT) -> list[str]:
    """A plain message as the HTML messages it takes; ``prefix`` (a mention) is HTML already."""
    lines = html_lines(text, limit - len(prefix) - 1)
    if prefix:
        lines[0] = f"{prefix} {lines[0]}".rstrip()
    return split(lines, limit)


def caption(title: str) -> str:
    """A photo's caption under Telegram's 1,024 characters (escaped)."""
    return cut(title, CAPTION_LIMIT)[0] if title else ""


def fit(lines: list[str], limit: int = MESSAGE_LIMIT) -> str:
    """One message of HTML lines; what does not fit is dropped at a line, with an ellipsis."""
    kept: list[str] = []
    size = 0
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1]  # only from html_lines'
        if size + len(line) + 1 > limit - len(ELLIPSIS) - 1:
            kept.append(ELLIPSIS)
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) or EMPTY_PART


@dataclass(frozen=True)
class RecapParts:
    """The recap as Telegram shows it: a headline, and details that reply to it."""

    headline: str
    details: tuple[str, ...]


def recap_parts(recap: Recap) -> RecapParts:
    head = [bold(say.recap_heading(recap.title, recap.tag)), *html_lines(headline_text(recap))]
    thanks = thanks_text(recap)
    if thanks:
        head += html_lines(thanks)
    details = []
    for question in recap.questions:
        [first, *rest] = question_text(question)
        lines = [bold(first), *(p for line in rest for p in html_lines(line))]
        lines += [p for line in groups_text(question) for p in html_lines(line)]
        details.append(fit(lines))
    extra: list[str] = []
    if recap.themes:
        extra += html_lines(say.THEMES.format(themes=", ".join(recap.themes)))
    if recap.phrases:
        extra += html_lines(say.PHRASES.format(phrases=", ".join(recap.phrases)))
    if recap.links:
        extra += html_lines(say.LINKS.format(urls=" ".join(link.url for link in recap.links)))
    if recap.url:
        extra += html_lines(say.FULL_RECAP.format(url=recap.url))
    if extra:  # a recap with no themes, phrases or links has no such part
        details.append(fit(extra))
    return RecapParts(fit(head), tuple(details))
