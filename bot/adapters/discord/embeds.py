"""Outgoing messages and recaps -> Discord message parts (content + embeds) within its limits.

Pure: builds ``discord.Embed`` values (plain data) and never sends anything. Whatever does not
fit one message is split over several, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import discord

from bot.core import wording as say
from bot.core.attribution import answer_label as label_of
from bot.core.ports import Outgoing
from bot.core.recap import QuestionRecap, Recap, plural, said_lines
from bot.core.text import split_text

# Discord's limits (developer docs, "Embed Limits" and "Create Message"):
CONTENT_LIMIT = 2000  # characters of a message's plain content
TITLE_LIMIT = 256  # characters of an embed title
DESCRIPTION_LIMIT = 4096  # characters of an embed description
FIELDS_LIMIT = 25  # fields per embed
FIELD_NAME_LIMIT = 256  # characters of a field name
FIELD_VALUE_LIMIT = 1024  # characters of a field value
FOOTER_LIMIT = 2048  # characters of a footer
AUTHOR_LIMIT = 256  # characters of an author name
EMBEDS_TOTAL_LIMIT = 6000  # characters of all embeds of one message together
EMBEDS_PER_MESSAGE = 10  # embeds in one message
THREAD_NAME_LIMIT = 100  # characters of a thread name

COLOUR = discord.Colour(0x5865F2)
_EMBEDDED = frozenset({"announce", "question"})


@dataclass(frozen=True)
class Part:
    """One Discord message: plain content, embeds, or both."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()


@dataclass(frozen=True)
class Rendered:
    """``head`` goes where the engine asked (its first part anchors a thread); ``details``
    (the recap's per-question parts) go into a thread of the head named ``details_thread``."""

    head: tuple[Part, ...]
    details: tuple[Part, ...] = ()
    details_thread: str | None = None


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_parts(text: str, prefix: str = "") -> list[Part]:
    """Plain content over as many messages as the 2,000-character limit needs."""
    chunks = split_text(f"{prefix}{text}", CONTENT_LIMIT) or [prefix.strip() or "…"]
    return [Part(content=chunk) for chunk in chunks]


def text_embeds(
    text: str, *, title: str = "", author: str = "", footer: str = ""
) -> list[discord.Embed]:
    """One embed per 4,096 characters of description; title and author on the first only."""
    chunks = split_text(text, DESCRIPTION_LIMIT) or [""]
    embeds = []
    for index, chunk in enumerate(chunks):
        embed = discord.Embed(description=chunk or None, colour=COLOUR)
        if index == 0:
            if title:
                embed.title = clip(title, TITLE_LIMIT)
            if author:
                embed.set_author(name=clip(author, AUTHOR_LIMIT))
        if footer and index == len(chunks) - 1:
            embed.set_footer(text=clip(footer, FOOTER_LIMIT))
        embeds.append(embed)
    return embeds


def pack(embeds: Iterable[discord.Embed], content: str | None = None) -> list[Part]:
    """Group embeds into messages of at most 10 embeds and 6,000 characters together."""
    parts: list[Part] = []
    batch: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if batch and (len(batch) >= EMBEDS_PER_MESSAGE or size + length > EMBEDS_TOTAL_LIMIT):
            parts.append(Part(content if not parts else None, tuple(batch)))
            batch, size = [], 0
        batch.append(embed)
        size += length
    if batch or content:
        parts.append(Part(content if not parts else None, tuple(batch)))
    return parts


def answer_label(question_id: str | None) -> str:
    return label_of(question_id) if question_id else "A1"


def render(message: Outgoing, mention: str = "") -> Rendered:
    """The parts for one Outgoing; ``mention`` (``<@id>``) goes in front of the content."""
    prefix = f"{mention} " if mention else ""
    if message.kind == "recap" and message.recap is not None:
        return render_recap(message.recap)
    if message.kind in _EMBEDDED:
        footer = ""
        if message.kind == "question":
            footer = (
                f"Answer in this question's thread, or start your message with "
                f"{answer_label(message.question_id)}"
            )
        text = message.text
        if message.starts_at is not None:
            stamp = int(message.starts_at.timestamp())
            text += "\n" + say.IN_YOUR_ZONE.format(when=f"<t:{stamp}:F> (<t:{stamp}:R>)")
        embeds = text_embeds(text, author=message.chat_title, footer=footer)
        return Rendered(tuple(pack(embeds, content=prefix.strip() or None)))
    return Rendered(tuple(text_parts(message.text, prefix)))


# the recap


def _figures(recap: Recap) -> str:
    s = recap.stats
    return (
        say.PARTICIPANTS.format(
            participants=f"**{s.participants}** participants",
            new=s.first_timers,
            returning=s.returning,
        )
        + "\n"
        f"**{s.messages}** messages · **{s.answers}** answers · **{s.reactions}** reactions"
        + (" · " + say.how_long(s.duration_minutes) if s.duration_minutes else "")
        + (f"\nReach: **{s.reach}** server members" if s.reach is not None else "")
    )


def _question_summary(question: QuestionRecap) -> str:
    if question.skipped:
        return say.SKIPPED_WORD
    return plural(len(question.answers), "answer")


def recap_head(recap: Recap) -> discord.Embed:
    """Headline figures and one line per question: the message people see in the channel."""
    embed = discord.Embed(
        title=clip(say.RECAP_HEADING.format(title=recap.title, tag=recap.tag).strip(), TITLE_LIMIT),
        description=_figures(recap),
        colour=COLOUR,
        # The run's archive page when PUBLIC_URL is set (getattr: older cores have no url).
        url=getattr(recap, "url", None),
    )
    reserved = 3  # themes, key phrases and thanks
    shown = list(recap.questions[: FIELDS_LIMIT - reserved])
    hidden = len(recap.questions) - len(shown)
    for question in shown:
        name = clip(f"{question.id}: {question.text}", FIELD_NAME_LIMIT)
        embed.add_field(name=name, value=_question_summary(question), inline=False)
    if hidden:
        embed.description = f"{embed.description}\n(+{plural(hidden, 'more question')})"
    if recap.themes:
        themes = clip(", ".join(recap.themes), FIELD_VALUE_LIMIT)
        embed.add_field(name=say.THEMES_TITLE, value=themes, inline=False)
    if recap.phrases:
        phrases = clip(", ".join(recap.phrases), FIELD_VALUE_LIMIT)
        embed.add_field(name=say.PHRASES_TITLE, value=phrases, inline=False)
    if recap.participants:
        thanks = clip(", ".join(p.name for p in recap.participants), FIELD_VALUE_LIMIT)
        embed.add_field(name="Thanks for taking part", value=thanks, inline=False)
    return _fit(embed)


def _highlight_lines(question: QuestionRecap) -> Iterator[str]:
    for message in question.highlights:
        text = clip(" ".join(message.text.split()), 600)
        votes = plural(message.reaction_count, "reaction")
        pick = f"⭐ {say.HOST_PICK}, " if message.message_id in question.host_picks else ""
        yield f"> {text}\n— **{message.user_name}** ({pick}{votes})"


def _group_lines(question: QuestionRecap) -> list[str]:
    """What people said, under the highlights: each group, its size and its quote."""
    said = said_lines(question)
    heading = [f"**{say.GROUPS_TITLE}**"] if said else []
    return heading + [f"• **{h}**: “{clip(t, 300)}” — {n}" for h, t, n in said]


def question_detail(question: QuestionRecap) -> discord.Embed:
    lines = list(_highlight_lines(question))
    summary = _question_summary(question)
    body = "\n\n".join(lines) if lines else "No highlights: nobody reacted to an answer."
    groups = _group_lines(question)
    if groups:
        body += "\n\n" + "\n".join(groups)
    return discord.Embed(
        title=clip(f"{question.id}: {question.text}", TITLE_LIMIT),
        description=clip(f"{summary}\n\n{body}", DESCRIPTION_LIMIT),
        colour=COLOUR,
    )


def links_detail(recap: Recap) -> list[discord.Embed]:
    lines = [
        f"{link.url} ({link.user_name}{', ' + link.question_id if link.question_id else ''})"
        for link in recap.links
    ]
    return text_embeds("\n".join(lines), title=say.LINKS_SHARED) if lines else []


def render_recap(recap: Recap) -> Rendered:
    details = [question_detail(q) for q in recap.questions] + links_detail(recap)
    thread = clip(say.recap_heading(recap.title, ""), THREAD_NAME_LIMIT)
    return Rendered((Part(embeds=(recap_head(recap),)),), tuple(pack(details)), thread)


def _fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed fits the 6,000-character message total."""
    while len(embed) > EMBEDS_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed
