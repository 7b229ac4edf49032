"""The core's Outgoing messages and Recap -> Slack messages (Block Kit + fallback text). Pure.

Slack's limits live here, where messages are shaped: text is truncated above 40,000
characters, a message holds at most 50 blocks, a section's text at most 3,000 characters, a
header at most 150 and a section at most 10 fields. Everything longer is split into several
messages rather than cut off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core import wording as say
from bot.core.attribution import answer_label
from bot.core.events import CommandReply
from bot.core.ports import Outgoing
from bot.core.recap import QuestionRecap, Recap, plural, said_lines
from bot.core.text import split_text

MAX_TEXT = 40_000  # chat.postMessage truncates `text` above this
MAX_BLOCKS = 50  # blocks per message
MAX_SECTION = 3_000  # characters in a section's text
MAX_HEADER = 150  # characters in a header block
MAX_FIELDS = 10  # fields per section
# Fallback text of a Block Kit message is only the notification/screen-reader line: keep it
# short even though Slack accepts far more.
MAX_FALLBACK = 3_000

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage: ``text`` is always set (fallback), ``blocks`` when rich.

    ``in_thread`` parts go into the thread of the first part (recap details); the others
    follow the first part where it went (a long text continued).
    """

    text: str
    blocks: tuple[Block, ...] = ()
    in_thread: bool = False


# Slack control sequences (<@U1>, <#C1|name>, <!here>, <https://x|label>) are kept as written;
# entities already escaped (&amp; &lt; &gt;) are not escaped twice, so escaping is idempotent
# and safe for text that came from Slack events (which Slack has escaped already).
_CONTROL = re.compile(r"<(?:[@#!][^<>\s][^<>]*|(?:https?|mailto):[^<>\s|]+(?:\|[^<>]*)?)>")
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")


def escape(text: str) -> str:
    """Escape &, < and > for mrkdwn, keeping Slack's own control sequences."""
    out: list[str] = []
    pos = 0
    for match in _CONTROL.finditer(text):
        out.append(_escape_plain(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slack_date(when: datetime) -> str:
    """Slack date formatting: each reader sees the time in their own time zone."""
    unix = int(when.timestamp())
    fallback = when.astimezone(UTC).strftime("%a %d %b %H:%M UTC")
    return f"<!date^{unix}^{{date_short_pretty}} {{time}}|{fallback}>"


# blocks


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def sections(text: str) -> list[Block]:
    return [{"type": "section", "text": mrkdwn(p)} for p in split_text(text, MAX_SECTION) or [""]]


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": shorten(text, MAX_HEADER), "emoji": True},
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(shorten(text, MAX_SECTION))]}


def chunk_blocks(blocks: list[Block]) -> list[list[Block]]:
    return [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)] or [[]]


# messages


def render(
    message: Outgoing, *, threaded: bool = False, mention: bool = True
) -> list[SlackMessage]:
    """The Slack messages for one Outgoing; the first is the one the engine keeps a ref to.

    ``threaded``: the message opens (or sits in) a thread, so answers can go there.
    ``mention``: prefix ``<@user>`` when the message names a person (not needed in a DM).
    """
    if message.kind == "question":
        return [question_message(message, threaded=threaded)]
    if message.kind == "recap" and message.recap is not None:
        return recap_messages(message.recap)
    text = escape(message.text)
    if message.starts_at is not None:
        text += "\n" + say.IN_YOUR_ZONE.format(when=slack_date(message.starts_at))
    if mention and message.mention is not None:
        text = f"<@{message.mention.id}> {text}"
    return [SlackMessage(part) for part in split_text(text, MAX_TEXT) or [""]]


def question_message(message: Outgoing, *, threaded: bool) -> SlackMessage:
    qid = message.question_id or ""
    body = message.text.removeprefix(f"{qid}: ") if qid else message.text
    hint = f"Start your answer with *{answer_label(qid)}*" if qid else "Answer below"
    hint += ", or reply in this thread." if threaded else "."
    blocks = [*sections(f"*{qid}*  {escape(body)}".strip()), context(hint)]
    if message.chat_title:
        blocks.append(context(escape(message.chat_title)))
    return SlackMessage(shorten(escape(message.text), MAX_FALLBACK), tuple(blocks))


def recap_messages(recap: Recap) -> list[SlackMessage]:
    """Headline figures in the parent message; per-question details in its thread."""
    s = recap.stats
    figures = [
        (
            "Participants",
            say.PARTICIPANTS.format(
                participants=s.participants, new=s.first_timers, returning=s.returning
            ),
        ),
        ("Messages", str(s.messages)),
        ("Answers", str(s.answers)),
        ("Reactions", str(s.reactions)),
        ("Duration", say.how_long(s.duration_minutes)),
    ]
    if s.reach is not None:
        figures.append(("Reach", str(s.reach)))
    title = say.RECAP_HEADING.format(title=recap.title, tag=recap.tag).strip()
    blocks: list[Block] = [
        header(title),
        {
            "type": "section",
            "fields": [mrkdwn(f"*{k}*\n{v}") for k, v in figures[:MAX_FIELDS]],
        },
    ]
    per_question = "\n".join(
        f"*{q.id}*{say.SKIPPED_MARK if q.skipped else ''} {escape(q.text)}: "
        f"{plural(len(q.answers), 'answer')}"
        for q in recap.questions
    )
    if per_question:
        blocks += sections(per_question)
    if recap.themes:
        blocks.append(context(say.THEMES.format(themes=escape(", ".join(recap.themes)))))
    if recap.phrases:
        blocks.append(context(say.PHRASES.format(phrases=escape(", ".join(recap.phrases)))))
    url = getattr(recap, "url", None)  # the archive page, when PUBLIC_URL is set
    if url:
        blocks.append(context(f"<{url}|Every answer, in the archive>"))
    details = _details(recap)
    if details:
        blocks.append(context("Highlights, links and thanks are in the thread."))
    fallback = shorten(
        f"{title}: {plural(s.participants, 'participant')}, {plural(s.messages, 'message')}, "
        f"{plural(s.answers, 'answer')}, {plural(s.reactions, 'reaction')}",
        MAX_FALLBACK,
    )
    chunks = chunk_blocks(blocks)
    messages = [SlackMessage(escape(fallback), tuple(chunks[0]))]
    messages += [SlackMessage(escape(fallback), tuple(c), in_thread=True) for c in chunks[1:]]
    messages += [
        SlackMessage(f"Recap details: {recap.title}", tuple(c), in_thread=True)
        for c in chunk_blocks(details)
        if c
    ]
    return messages


def _details(recap: Recap) -> list[Block]:
    blocks: list[Block] = []
    for q in recap.questions:
        if q.skipped:
            continue
        picks = set(getattr(q, "host_picks", ()))  # highlights a host chose
        lines = [f"*{q.id}* {escape(q.text)} ({plural(len(q.answers), 'answer')})"]
        lines += [
            f">{':star: ' if m.message_id in picks else ''}*{escape(m.user_name)}*: "
            f"{escape(_one_line(m.text))} _({plural(m.reaction_count, 'reaction')})_"
            for m in q.highlights
        ]
        lines += _groups(q)
        if q.highlights or q.answers:
            blocks += sections("\n".join(lines))
    if recap.links:
        lines = [f"*{say.LINKS_SHARED}*"] + [
            f"• {escape(link.url)} ({escape(link.user_name)}"
            + (f", {link.question_id})" if link.question_id else ")")
            for link in recap.links
        ]
        blocks += sections("\n".join(lines))
    if recap.participants:
        names = ", ".join(escape(p.name) for p in recap.participants)
        blocks += sections(f"Thanks {names}!")
    return blocks


def _groups(q: QuestionRecap) -> list[str]:
    """What people said, under the question's highlights: each group, its size, its quote."""
    said = said_lines(q)
    heading = [f"_{say.GROUPS_TITLE}_"] if said else []
    return heading + [f"• *{escape(h)}*: “{escape(t)}” ({escape(n)})" for h, t, n in said]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# command replies


def reply_text(reply: CommandReply) -> str:
    """A command's answer; /chats lists start times in each reader's own time zone."""
    if reply.deadlines:
        lines = [escape(reply.text)] + [
            say.CLOSES_IN_YOUR_ZONE.format(question_id=d.question_id, when=slack_date(d.closes))
            for d in reply.deadlines
        ]
        return shorten("\n".join(lines), MAX_TEXT)
    if not reply.upcoming:
        return shorten(escape(reply.text), MAX_TEXT)
    lines = [say.UPCOMING] + [
        f"• *{escape(u.title)}* ({escape(u.chat_id)}): {slack_date(u.start)}"
        for u in reply.upcoming
    ]
    if reply.calendar is not None:
        lines.append(say.SUBSCRIBE.format(url=reply.calendar))
    return shorten("\n".join(lines), MAX_TEXT)
