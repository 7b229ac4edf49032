"""Prints what participants would see; implements the core's Port."""

from __future__ import annotations

import itertools
import secrets
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from bot.core.clock import Clock
from bot.core.durations import format_offset
from bot.core.events import User
from bot.core.ports import NothingToFind, Outgoing, PostedRef

_MARKERS = {
    "announce": "📣",
    "intro": "👋",
    "question": "❓",
    "nudge": "🔔",
    "outro": "🏁",
    "recap": "📝",
    "notice": "⚠️",
    "close": "🔒",
    "reminder": "⏰",
    "digest": "📰",
}


def process_ids(prefix: str) -> Iterator[str]:
    """Message ids no other process hands out: the store keeps one message per platform,
    channel and id, so a restarted console that counted from 1 again would have its first
    replies dropped as duplicates of the stored ones (and its posts recorded twice as ``c1``)."""
    process = secrets.token_hex(4)
    return (f"{prefix}{process}-{n}" for n in itertools.count(1))


class ConsolePort(NothingToFind):
    """Printing cannot half-fail, so a retried post has nothing to look for."""

    def __init__(self, clock: Clock, out: TextIO | None = None, origin: datetime | None = None):
        self.clock = clock
        self.out = out or sys.stdout
        self.origin = origin
        self._ids = process_ids("c")
        self.sent: list[tuple[str, Outgoing]] = []

    def stamp(self, when: datetime | None = None) -> str:
        """Time relative to the chat's start (as the replies file writes it), else UTC."""
        when = when or self.clock.now()
        if self.origin is not None:
            return format_offset(when - self.origin).rjust(8)
        return f"{when:%H:%M:%S}"

    def write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        message_id = next(self._ids)
        where = f"#{channel.lstrip('#')}" + (" (thread)" if thread_id else "")
        marker = _MARKERS.get(message.kind, "")
        self.write(f"[{self.stamp()}] {where} {marker} {_indent(message.text)}")
        for a in message.attachments:  # a terminal shows that it is there, not the picture
            self.write(f"{' ' * 11}📎 {a.filename} ({len(a.data) // 1024 or 1} KB) {a.title}")
        self.sent.append((channel, message))
        return PostedRef(channel, message_id, message_id if start_thread else None)

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        self.write(f"[{self.stamp()}] DM to {user.label}: {_indent(message.text)}")
        self.sent.append((f"@{user.id}", message))
        return PostedRef(f"@{user.id}", next(self._ids))

    async def member_count(self, channel: str) -> int | None:
        return None  # a terminal has readers, not members

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        self.write(f"[{self.stamp()}] (updated {ref.message_id}) {_indent(message.text)}")
        self.sent.append((ref.channel_id, message))


def _indent(text: str) -> str:
    return text.replace("\n", "\n" + " " * 12)
