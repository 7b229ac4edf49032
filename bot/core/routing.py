"""Which run and which question a message belongs to: the rules, pure, in one place.

The recorder (bot/core/recorder.py) applies them to a batch of messages with what it read from
the store (the live runs, the question threads, the questions of the messages replied to); an
edit is re-attributed by the same rules (``edited_question``). Only messages in a chat's
channel while a run takes them are recorded (from a little before the start until the
late-answer window after the end): chathost does not archive a channel's everyday talk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.attribution import Context, find_label
from bot.core.events import ChannelRef
from bot.core.plan import Chat, chat_from_json
from bot.core.run_states import LIVE, WAITING
from bot.core.store import RunRow
from bot.core.windows import open_question_at, too_late

PRE_CHAT = timedelta(minutes=30)
MAX_LATE_WINDOW = timedelta(days=1)


def in_channel(run: RunRow, channel: ChannelRef) -> bool:
    """Whether a message in ``channel`` can belong to ``run``: the plan names the channel (by
    id or name), or the run's first post landed there (its id, kept through a rename)."""
    pinned = run.channel_id is not None and channel.id == run.channel_id
    return pinned or channel.matches(run.channel)


def accepts(run: RunRow, chat: Chat, at: datetime) -> bool:
    """Whether ``run`` takes a message sent at ``at``: from half an hour before its start until
    its late window closes."""
    if run.state in LIVE:
        return True
    if run.state in WAITING:
        return at >= run.scheduled_start - PRE_CHAT
    if run.ended_at is None:
        return False
    return at <= run.ended_at + chat.summary.late_window


def channel_runs(
    runs: Iterable[RunRow], platform: str, channel: ChannelRef
) -> tuple[RunRow | None, list[RunRow]]:
    """A channel's runs: the live one (which takes every message, whatever its time), and all
    of them in start order for ``choose_run`` when none is live."""
    candidates = [
        r
        for r in sorted(runs, key=lambda r: (r.scheduled_start, r.id or 0))
        if r.platform == platform and in_channel(r, channel)
    ]
    live = sorted((r for r in candidates if r.state in LIVE), key=_latest_first)
    return (live[0] if live else None), candidates


def choose_run(candidates: Iterable[RunRow], at: datetime) -> RunRow | None:
    """The run a message at ``at`` belongs to among a channel's runs: a live run wins over a
    pre-chat or late one, then the latest start."""
    taking = [r for r in candidates if accepts(r, chat_from_json(r.plan_json), at)]
    taking.sort(key=lambda r: (r.state not in LIVE, _latest_first(r)))
    return taking[0] if taking else None


def _latest_first(run: RunRow) -> float:
    return -run.scheduled_start.timestamp()


@dataclass(frozen=True)
class RunFacts:
    """What attribution reads of a run, taken once per batch (not per message)."""

    id: int
    chat: Chat
    thread_id: str | None
    open_question: str | None
    ended: bool
    run: RunRow

    @classmethod
    def of(cls, run: RunRow) -> RunFacts:
        return cls(
            id=run.id or 0,
            chat=chat_from_json(run.plan_json),
            thread_id=run.thread_id,
            open_question=run.current_question,
            ended=run.state not in LIVE and run.started_at is not None,
            run=run,
        )

    def open_question_at(self, at: datetime) -> str | None:
        """Where an unlabelled message at ``at`` goes: a live chat's open question; an async
        chat's most recently opened question still open at ``at`` (bot/core/windows.py)."""
        if not self.chat.is_async or self.ended:
            return self.open_question
        return open_question_at(self.run, self.chat, at)

    def too_late(self, question_id: str | None, at: datetime) -> bool:
        """An async chat's answer past its question's window and late window: not counted."""
        return self.chat.is_async and too_late(self.run, self.chat, question_id, at)

    def in_question_thread(self, thread_id: str | None) -> bool:
        """Whether a message's thread can be a question's own (the run's thread is not)."""
        return bool(thread_id) and thread_id != self.thread_id

    def context(
        self, thread_question: str | None, reply_question: str | None, open_question: str | None
    ) -> Context:
        return Context(
            question_ids=self.chat.question_ids,
            thread_question=thread_question,
            reply_question=reply_question,
            open_question=open_question,
            ended=self.ended,
        )


def edited_question(
    text: str,
    chat: Chat | None,
    thread_question: str | None,
    fallback_question: str | None,
) -> tuple[str | None, str]:
    """An edited message's question and reason: its thread still decides; else a label typed
    in the edit; else the question that was open when it was first sent."""
    if thread_question is not None:
        return thread_question, "thread"
    label = find_label(text, chat.question_ids) if chat else None
    if label:
        return label, "label"
    return fallback_question, ("open" if fallback_question is not None else "pre-chat")
