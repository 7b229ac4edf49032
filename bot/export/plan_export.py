"""``chathost export RUN --format plan``: a run written back as a chats.yaml entry.

Why: a spontaneous chat that worked (or a planned one whose hosts added questions with /ask)
can be planned next time as it went: its questions in the order they went out, each at the
offset it was asked at, and the run's settings (channel, hosts, threads, nudges, summary). The
output is a whole plan (``timezone:`` and ``chats:``), so ``chathost validate`` reads it as it
is; its one entry can also be pasted under another plan's ``chats:``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import yaml

from bot.core import wording
from bot.core.durations import format_duration
from bot.core.errors import UserError
from bot.core.plan import Chat
from bot.core.recap import RunView

MINUTE = timedelta(minutes=1)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ID_LENGTH = 64  # a plan's chat ids are at most this long


class NothingToPlan(UserError):
    """A run that asked no question: a plan's chat needs at least one."""


def plan_chat_id(chat: Chat) -> str:
    """A planned chat keeps its id; a spontaneous one (``adhoc-<channel-title>-<hash>``) is
    named after its title, as a host would name it."""
    if not chat.spontaneous:
        return chat.id
    slug = _NOT_SLUG.sub("-", chat.title.lower()).strip("-")[:_ID_LENGTH].strip("-")
    return slug or "chat"


def asked(chat: Chat, view: RunView) -> list[tuple[str, timedelta]]:
    """Each question that went out (skipped ones did not), with the offset it was asked at,
    in the order they were asked, to the whole second."""
    posted = {q.id: q for q in view.questions}
    found: list[tuple[str, timedelta]] = []
    for question in chat.questions:
        seen = posted.get(question.id)
        if seen is None or seen.skipped or seen.posted_at is None:
            continue
        at = question.at  # /ask stores the offset it was typed at
        if not (chat.spontaneous or question.extra) and view.started_at is not None:
            # A planned question /nextq posted early went out before its planned offset.
            at = min(at, max(seen.posted_at - view.started_at, timedelta(0)))
        found.append((question.text, timedelta(seconds=int(at.total_seconds()))))
    return sorted(found, key=lambda pair: pair[1])  # stable: ties keep the order they went out


def _held(chat: Chat, view: RunView, last: timedelta) -> timedelta:
    """How long the run lasted, in whole minutes (its planned length if it has not ended),
    and always past its last question: a plan's questions come before its end."""
    held = chat.schedule.duration
    if view.started_at is not None and view.ended_at is not None:
        held = view.ended_at - view.started_at
    minutes = -(-int(held.total_seconds()) // 60)
    return max(timedelta(minutes=minutes), MINUTE * (int(last.total_seconds()) // 60 + 1))


def _local(when: datetime, chat: Chat) -> str:
    return when.astimezone(chat.zone).strftime("%Y-%m-%d %H:%M")


def run_plan(chat: Chat, view: RunView) -> str:
    """The plan entry of ``chat``'s run ``view``, as YAML with a comment saying where from."""
    questions = asked(chat, view)
    if not questions:
        raise NothingToPlan(wording.PLAN_EXPORT_EMPTY.format(run_id=view.run_id))
    started = view.started_at or view.scheduled_start
    schedule: dict[str, Any] = {"start": _local(started, chat)}
    if chat.schedule.rrule and not chat.spontaneous:
        schedule["rrule"] = chat.schedule.rrule
    schedule["duration"] = format_duration(_held(chat, view, questions[-1][1]))
    entry = chat.model_dump(mode="json", exclude_defaults=True, exclude={"spontaneous"})
    entry["id"] = plan_chat_id(chat)
    entry["timezone"] = chat.timezone or "UTC"
    entry["schedule"] = schedule
    entry["questions"] = [
        {"id": f"Q{number}", "at": format_duration(at), "text": text}
        for number, (text, at) in enumerate(questions, 1)
    ]
    header = wording.PLAN_EXPORT_HEADER.format(
        run_id=view.run_id, title=chat.title, start=_local(started, chat), zone=chat.zone.key
    )
    document = {"timezone": chat.timezone or "UTC", "chats": [entry]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body
