"""run.json: the stored run as data. The rehearsal writes it; ``chathost export`` too.

Fields are only ever added, never renamed, so scripts written against run.json keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson

from bot.core.plan import Chat
from bot.core.recap import MessageView, QuestionRecap, Recap, RunView, iso_times, thanks_text


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _clock(seconds: int) -> str:
    """Whole seconds from the run's start as ``[-][h:]mm:ss``, as in the replies file."""
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes:02d}:{secs:02d}"


class _Clocks(dict[int, str]):
    """``_clock`` of each second, formatted on first use: a run's 50,000 messages fall on a
    few thousand distinct seconds, and formatting the offset of each took ~1 µs, three times
    as long as working out the second (cut towards zero) and looking it up."""

    def __missing__(self, seconds: int) -> str:
        self[seconds] = text = _clock(seconds)
        return text


def _reactions(reactions: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {emoji: list(users) for emoji, users in reactions.items()}


def _messages(
    messages: Iterable[MessageView], start: datetime, clocks: _Clocks, times: Mapping[int, str]
) -> list[dict[str, Any]]:
    """The messages' entries, their offsets (``at``) from the run's ``start``."""
    return [
        {
            "id": message.message_id,
            "user": message.user_name,
            "user_id": message.user_id,
            "text": message.text,
            "at": clocks[int((message.created_at - start).total_seconds())],
            "time": times[message.id],
            "question": message.question_id,
            "kind": message.kind,
            "reason": message.reason,
            "thread": message.thread_id,
            "reply_to": message.reply_to,
            "edited": message.edited,
            "highlighted": message.highlighted,
            "reactions": _reactions(message.reactions) if message.reactions else {},
        }
        for message in messages
    ]


def _groups(question: QuestionRecap) -> list[dict[str, Any]]:
    """What people said: each group's label, size, the answer quoted (its text, and its id
    among the replies) and its answers (message ids)."""
    return [
        {
            "label": g.label,
            "size": g.size,
            "quote": g.quote.text,
            "quote_id": g.quote.message_id,
            "answers": list(g.answers),
        }
        for g in question.groups
    ]


def run_document(
    chat: Chat, view: RunView, recap: Recap, times: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """The JSON document of one run; the schema is documented in the README. ``times`` are
    the messages' ISO times (``iso_times``) if another export has them already."""
    stats = asdict(recap.stats)
    by_id = {q.id: q for q in recap.questions}
    start, clocks = view.started_at or view.scheduled_start, _Clocks()
    times = iso_times(view.messages) if times is None else times
    return {
        "chat": {
            "id": chat.id,
            "title": chat.title,
            "tag": chat.tag,
            "platform": chat.platform,
            "channel": chat.channel,
            "hosts": list(chat.hosts),
        },
        "run": {
            "id": view.run_id,
            "state": view.state,
            "scheduled_start": _time(view.scheduled_start),
            "started_at": _time(view.started_at),
            "ended_at": _time(view.ended_at),
            "url": recap.url,
        },
        "stats": stats,
        "questions": [
            {
                "id": q.id,
                "text": q.text,
                "posted_at": _time(q.posted_at),
                "opened_at": _time(q.posted_at),
                "closed_at": _time(q.closed_at),
                "skipped": q.skipped,
                "replies": _messages(by_id[q.id].answers, start, clocks, times),
                "highlights": [m.message_id for m in by_id[q.id].highlights],
                "host_picks": list(by_id[q.id].host_picks),
                "groups": _groups(by_id[q.id]),
                "host_messages": _messages(by_id[q.id].host_messages, start, clocks, times),
            }
            for q in view.questions
        ],
        "unattributed": _messages(recap.unattributed, start, clocks, times),
        "participants": [
            {
                "user": p.name,
                "user_id": p.user_id,
                "messages": p.messages,
                "answers": p.answers,
                "first_time": p.first_time,
            }
            for p in recap.participants
        ],
        "themes": list(recap.themes),
        "phrases": list(recap.phrases),
        "links": [asdict(link) for link in recap.links],
        "thanks": thanks_text(recap),
    }


def run_json_bytes(
    chat: Chat, view: RunView, recap: Recap, times: Mapping[int, str] | None = None
) -> bytes:
    """The document as UTF-8, ending in a newline: what ``chathost export --format json``
    writes and the archive serves.

    Encoded by orjson, compact: the json module took ~0.25 s for a 50,000-message run (and
    its pure-Python encoder, used with ``indent``, five times that), orjson ~0.03 s. Both
    write the same values; orjson leaves out the spaces after ``,`` and ``:``.
    """
    document = run_document(chat, view, recap, times)
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)


def run_json(
    chat: Chat, view: RunView, recap: Recap, times: Mapping[int, str] | None = None
) -> str:
    """``run_json_bytes`` as text."""
    return run_json_bytes(chat, view, recap, times).decode("utf-8")
