"""Spontaneous chats: the chat a ``/startchat TITLE`` makes, and its questions as ``/ask``
adds them. Pure: the commands store what these return.

Why a Chat like a planned one: the engine, the recorder, the recap and the archive all read a
run's own plan snapshot, so a spontaneous run that carries its chat (and every question asked
so far, with the offset it was asked at) in that snapshot is run, resumed after a restart and
exported exactly like a planned one.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.events import ChannelRef, User
from bot.core.plan import EXTRA_PREFIX, Chat, Plan, Question, Schedule

ADHOC_PREFIX = "adhoc-"
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG_LENGTH = 24


def split_title(text: str) -> tuple[str, str]:
    """``Panel: AI in schools #aichat`` -> the title and its tag (a last word with ``#``)."""
    words = text.split()
    if len(words) > 1 and words[-1].startswith("#") and len(words[-1]) > 1:
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), ""


def slug(text: str, length: int) -> str:
    """``Panel: AI in schools`` -> ``panel-ai-in-schools``, at most ``length`` characters: a
    chat id a plan accepts (``chat`` when nothing is left)."""
    return _NOT_SLUG.sub("-", text.lower()).strip("-")[:length].strip("-") or "chat"


def adhoc_chat_id(platform: str, channel: ChannelRef, title: str) -> str:
    """One chat per platform, channel and title, so the archive groups the runs of a
    spontaneous chat held again under the same title; readable, and unique by a short hash."""
    where = channel.name or channel.id
    digest = hashlib.sha256(f"{platform}\n{channel.id}\n{title}".encode()).hexdigest()[:8]
    return f"{ADHOC_PREFIX}{slug(f'{where} {title}', _SLUG_LENGTH)}-{digest}"


def adhoc_chat(
    plan: Plan, title: str, tag: str, platform: str, channel: ChannelRef, host: User, now: datetime
) -> Chat:
    """The chat of a spontaneous run: the typer hosts it, the ``adhoc:`` section sets the rest."""
    settings = plan.adhoc
    local = now.astimezone(ZoneInfo(plan.timezone)).replace(tzinfo=None, microsecond=0)
    return Chat(
        id=adhoc_chat_id(platform, channel, title),
        title=title,
        tag=tag,
        platform=platform,
        channel=channel.id,
        threads=settings.threads,
        hosts=[host.name or host.id],
        timezone=plan.timezone,
        schedule=Schedule(start=local, duration=settings.duration),
        nudges=settings.nudges,
        summary=settings.summary,
        spontaneous=True,
    )


def with_question(
    chat: Chat, text: str, at: timedelta, position: int | None = None
) -> tuple[Chat, Question]:
    """``chat`` with ``text`` asked ``at`` after the start, placed at ``position`` (right after
    the questions already out; default: last). A spontaneous chat's questions are Q1, Q2...;
    a planned one's extra questions are X1, X2..., so the plan's later questions keep their
    ids, their places after it and their times."""
    if chat.spontaneous:
        question_id = f"Q{len(chat.questions) + 1}"
    else:
        question_id = f"{EXTRA_PREFIX}{sum(q.extra for q in chat.questions) + 1}"
    question = Question(id=question_id, text=text, at=max(at, timedelta(0)))
    where = len(chat.questions) if position is None else position
    questions = [*chat.questions[:where], question, *chat.questions[where:]]
    return chat.model_copy(update={"questions": questions}), question


def with_cohost(chat: Chat, person: str) -> Chat:
    """``chat`` with ``person`` among its co-hosts (for this run only: the snapshot's)."""
    name = person.lstrip("@")
    if chat.is_host(name):
        return chat
    return chat.model_copy(update={"cohosts": [*chat.cohosts, name]})
