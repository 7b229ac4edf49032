"""``chathost export RUN --format plan``: a run written back as a chats.yaml entry.

Why: a spontaneous chat that worked (or a planned one whose hosts added questions with /ask)
can be planned next time as it went: its questions in the order they went out, each at the
offset it was asked at, and the run's settings (channel, hosts, threads, nudges, summary). The
output is a whole plan (``timezone:`` and ``chats:``), so ``chathost validate`` reads it as it
is; its one entry can also be pasted under another plan's ``chats:``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import yaml

from bot.core import wording
from bot.core.adhoc import slug
from bot.core.durations import format_duration
from bot.core.errors import UserError
from bot.core.plan import Chat, Question
from bot.core.recap import RunView

MINUTE = timedelta(minutes=1)
_ID_LENGTH = 64  # a plan's chat ids are at most this long


class NothingToPlan(UserError):
    """A run that asked no question: a plan's chat needs at least one."""


def plan_chat_id(chat: Chat) -> str:
    """A planned chat keeps its id; a spontaneous one (``adhoc-<channel-title>-<hash>``) is
    named after its title, as a host would name it."""
    return slug(chat.title, _ID_LENGTH) if chat.spontaneous else chat.id


def asked(chat: Chat, view: RunView) -> list[Question]:
    """Each question that went out (skipped ones did not), at the offset it was asked at to
    the whole second, in the order they were asked."""
    posted = {q.id: q for q in view.questions}
    found: list[Question] = []
    for question in chat.questions:
        seen = posted.get(question.id)
        if seen is None or seen.skipped or seen.posted_at is None:
            continue
        at = question.at  # /ask stores the offset it was typed at
        if not (chat.spontaneous or question.extra) and view.started_at is not None:
            # A planned question /nextq posted early went out before its planned offset.
            at = min(at, max(seen.posted_at - view.started_at, timedelta(0)))
        whole = timedelta(seconds=int(at.total_seconds()))
        found.append(question.model_copy(update={"at": whole}))
    return sorted(found, key=lambda q: q.at)  # stable: ties keep the order they went out


def _minutes(delta: timedelta, *, past: bool = False) -> timedelta:
    """``delta`` rounded up to whole minutes; ``past``: the next whole minute after it."""
    seconds = int(delta.total_seconds())
    return MINUTE * (seconds // 60 + 1 if past else -(-seconds // 60))


def _held(chat: Chat, view: RunView, questions: list[Question]) -> timedelta:
    """How long the run lasted, in whole minutes (its planned length if it has not ended),
    and long enough for the plan it becomes: its questions come before its end, and an async
    chat's windows (``open_for``) close by it."""
    held = chat.schedule.duration
    if view.started_at is not None and view.ended_at is not None:
        held = view.ended_at - view.started_at
    closes = [q.at + q.open_for for q in questions if q.open_for is not None]
    return max(_minutes(held), _minutes(questions[-1].at, past=True), *map(_minutes, closes))


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
    schedule["duration"] = format_duration(_held(chat, view, questions))
    entry = chat.model_dump(mode="json", exclude_defaults=True, exclude={"spontaneous"})
    entry["id"] = plan_chat_id(chat)
    entry["timezone"] = chat.timezone or "UTC"
    entry["schedule"] = schedule
    entry["questions"] = [
        {
            "id": f"Q{number}",
            **question.model_dump(mode="json", exclude_none=True, include={"at", "open_for"}),
            "text": question.text,
        }
        for number, question in enumerate(questions, 1)
    ]
    header = wording.PLAN_EXPORT_HEADER.format(
        run_id=view.run_id, title=chat.title, start=_local(started, chat), zone=chat.zone.key
    )
    document = {"timezone": chat.timezone or "UTC", "chats": [entry]}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body
