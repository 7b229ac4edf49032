"""run.json: the stored run as data. The rehearsal writes it; ``chathost export`` too.

Fields are only ever added, never renamed, so scripts written against run.json keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from bot.core.plan import Chat
from bot.core.recap import MessageView, Recap, RunView, thanks_text


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _offset(start: datetime, when: datetime) -> str:
    """``when`` from ``start`` as ``[-][h:]mm:ss``, as in the replies file."""
    seconds = int((when - start).total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes:02d}:{secs:02d}"


def _reactions(reactions: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {emoji: list(users) for emoji, users in reactions.items()}


def _messages(view: RunView, messages: Iterable[MessageView]) -> list[dict[str, Any]]:
    """The messages' entries; the run's start is looked up once, not once per message."""
    start = view.started_at or view.scheduled_start
    return [
        {
            "id": message.message_id,
            "user": message.user_name,
            "user_id": message.user_id,
            "text": message.text,
            "at": _offset(start, message.created_at),
            "time": message.created_at.isoformat(),
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


def run_document(chat: Chat, view: RunView, recap: Recap) -> dict[str, Any]:
    """The JSON document of one run; the schema is documented in the README."""
    stats = asdict(recap.stats)
    by_id = {q.id: q for q in recap.questions}
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
                "skipped": q.skipped,
                "replies": _messages(view, by_id[q.id].answers),
                "highlights": [m.message_id for m in by_id[q.id].highlights],
                "host_picks": list(by_id[q.id].host_picks),
                "host_messages": _messages(view, by_id[q.id].host_messages),
            }
            for q in view.questions
        ],
        "unattributed": _messages(view, recap.unattributed),
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
        "links": [asdict(link) for link in recap.links],
        "thanks": thanks_text(recap),
    }


def run_json(chat: Chat, view: RunView, recap: Recap) -> str:
    """The document as text, for ``chathost export --format json`` and the archive.

    Compact (no ``indent``): with ``indent`` the json module falls back to its pure-Python
    encoder, five times slower on a 50,000-message run (1.0 s against 0.2 s). The document
    is a tree built just above, so the encoder need not watch for cycles.
    """
    document = run_document(chat, view, recap)
    return json.dumps(document, ensure_ascii=False, check_circular=False) + "\n"
