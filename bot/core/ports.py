"""The Port: everything the engine asks of a platform. Each adapter implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.events import User

if TYPE_CHECKING:
    from bot.core.recap import Recap

OutKind = Literal["announce", "intro", "question", "nudge", "outro", "recap", "notice"]


@dataclass(frozen=True)
class Outgoing:
    """A message in the core's terms; adapters choose blocks, embeds or plain text."""

    kind: OutKind
    text: str
    chat_title: str = ""
    tag: str = ""
    question_id: str | None = None
    mention: User | None = None
    recap: Recap | None = None


@dataclass(frozen=True)
class PostedRef:
    """Where a post landed; ``thread_id`` is set when the post opened a thread."""

    channel_id: str
    message_id: str
    thread_id: str | None = None


class PortError(Exception):
    """A platform refused or failed a post; carries what was being sent."""

    def __init__(self, message: str, *, kind: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.permanent = permanent


class Port(Protocol):
    """What the engine calls. Implementations own rate limits and size limits."""

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        """Post to a channel (or into ``thread_id``); ``start_thread`` names a new thread."""
        ...

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef: ...

    async def update(self, ref: PostedRef, message: Outgoing) -> None: ...
