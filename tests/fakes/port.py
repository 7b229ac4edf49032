"""A Port that remembers what the engine sent, and can be told to fail, for core tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime

from bot.core.events import User
from bot.core.ports import Outgoing, PortError, PostedRef


@dataclass(frozen=True)
class Sent:
    where: str
    message: Outgoing
    thread_id: str | None = None
    start_thread: str | None = None
    ref: PostedRef | None = None


class FakePort:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.updates: list[tuple[PostedRef, Outgoing]] = []
        self.failures: list[PortError] = []
        self.lost_answers: list[PortError] = []
        self.lost_dm_answers: list[PortError] = []
        self.find_failures: list[PortError] = []
        self.finds: list[str] = []
        self.members: int | None = None  # what member_count answers (None: cannot tell)
        self._ids = itertools.count(100)

    def fail_next(self, error: PortError, times: int = 1) -> None:
        self.failures += [error] * times

    def lose_next_answer(self, error: PortError) -> None:
        """The next post lands, but its sender sees ``error`` (a timeout after the platform
        accepted it, or a process that died before recording it)."""
        self.lost_answers.append(error)

    def lose_next_dm_answer(self, error: PortError) -> None:
        """``lose_next_answer`` for the next direct message."""
        self.lost_dm_answers.append(error)

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        self._maybe_fail()
        message_id = f"p{next(self._ids)}"
        ref = PostedRef(channel, message_id, f"t{message_id}" if start_thread else None)
        self.sent.append(Sent(channel, message, thread_id, start_thread, ref))
        if self.lost_answers:
            raise self.lost_answers.pop(0)
        return ref

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self._maybe_fail()
        ref = PostedRef(f"@{user.id}", f"d{next(self._ids)}")
        self.sent.append(Sent(f"@{user.id}", message, ref=ref))
        if self.lost_dm_answers:
            raise self.lost_dm_answers.pop(0)
        return ref

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        self.updates.append((ref, message))

    async def member_count(self, channel: str) -> int | None:
        return self.members

    async def find_post(
        self,
        channel: str,
        key: str,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
        since: datetime,
    ) -> PostedRef | None:
        """Like Slack's search by message metadata: the post tagged ``key`` in ``channel``."""
        self.finds.append(key)
        if self.find_failures:
            raise self.find_failures.pop(0)
        for sent in self.sent:
            if sent.where == channel and sent.message.key == key:
                return sent.ref
        return None

    async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
        return await self.find_post(f"@{user.id}", key, since=since)

    def kinds(self) -> list[str]:
        return [s.message.kind for s in self.sent]

    def questions(self) -> list[str]:
        return [s.message.question_id or "" for s in self.sent if s.message.kind == "question"]

    def dms_to(self, user_id: str) -> list[Sent]:
        return [s for s in self.sent if s.where == f"@{user_id}"]

    def ref_of(self, question_id: str) -> PostedRef:
        for s in self.sent:
            if s.message.question_id == question_id and s.ref is not None:
                return s.ref
        raise KeyError(question_id)
