"""An async chat's question windows: when each question opens and closes, which are open at
a moment, and where an unlabelled answer goes. Pure: the engine, the recorder, /chatstatus
and the exports read the same times from the run's plan, its start and its pauses.

A question counts as opened once the run posted it (``next_question`` passed it: on time, or
early by /nextq); it closes at its planned opening plus ``open_for``, moved by every pause.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import wording
from bot.core.plan import Chat, Question
from bot.core.store import PostRow, RunRow
from bot.core.store.messages import MessageRecord

# The post kind of a question's closing note (its key: close:Q2).
CLOSE_KIND = "close"


@dataclass(frozen=True)
class Window:
    question: Question
    index: int
    opens: datetime
    closes: datetime

    @property
    def question_id(self) -> str:
        return self.question.id


def windows(run: RunRow, chat: Chat) -> list[Window]:
    """Every question's planned window in a started run (none before it starts)."""
    if run.started_at is None or not chat.is_async:
        return []
    base = run.started_at + timedelta(seconds=run.shift_seconds)
    return [
        Window(q, i, base + q.at, base + q.at + chat.open_for(q))
        for i, q in enumerate(chat.questions)
    ]


def opened(run: RunRow, chat: Chat) -> list[Window]:
    """The windows of the questions the run has posted (or skipped) so far."""
    return windows(run, chat)[: run.next_question]


def open_at(run: RunRow, chat: Chat, at: datetime) -> list[Window]:
    """The questions taking answers at ``at``, latest opened last."""
    return [w for w in opened(run, chat) if w.closes > at]


def open_question_at(run: RunRow, chat: Chat, at: datetime) -> str | None:
    """Where an unlabelled message at ``at`` goes: the most recently opened question that is
    still open; never a closed one (then it answers nothing)."""
    found = open_at(run, chat, at)
    return found[-1].question_id if found else None


def too_late(run: RunRow, chat: Chat, question_id: str | None, at: datetime) -> bool:
    """Whether an answer to ``question_id`` at ``at`` comes after its window and the late
    window that follows it: it is then not counted."""
    for window in windows(run, chat):
        if window.question_id == question_id:
            return at > window.closes + chat.summary.late_window
    return False


def closing_note(window: Window, records: list[MessageRecord]) -> str:
    """The note a closed question's thread gets: its answers so far, and by how many."""
    answers = [
        r
        for r in records
        if r.question_id == window.question_id
        and r.kind == "answer"
        and r.created_at <= window.closes
    ]
    people = len({r.user_id for r in answers})
    return wording.question_closed(window.question_id, answers=len(answers), people=people)


def closed_times(run: RunRow, chat: Chat, posts: Iterable[PostRow]) -> dict[str, datetime]:
    """When each question stopped taking answers, for the exports: an async chat's at the
    end of its window (once closed, or cut short by the end); a live chat's when the next
    question went up, the last one's at the end."""
    posted = {p.question_id: p for p in posts if p.kind == "question" and not p.skipped}
    ended = run.ended_at
    if chat.is_async:
        notes = {p.question_id: p.claimed_at for p in posts if p.kind == CLOSE_KIND}
        found = {}
        for w in opened(run, chat):
            if w.question_id in notes:
                found[w.question_id] = notes[w.question_id]
            elif w.question_id in posted and ended is not None:
                found[w.question_id] = min(w.closes, ended)  # /endchat cut it short
        return found
    order = [q.id for q in chat.questions if q.id in posted]
    found: dict[str, datetime] = {}
    for current, following in itertools.pairwise(order):
        nxt = posted[following]
        found[current] = nxt.posted_at or nxt.claimed_at
    if order and ended is not None:
        found[order[-1]] = ended
    return found
