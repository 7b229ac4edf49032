"""The Port: everything the engine asks of a platform. Each adapter implements it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from bot.core.events import User

if TYPE_CHECKING:
    from bot.core.recap import Recap

OutKind = Literal[
    "announce",
    "intro",
    "question",
    "nudge",
    "outro",
    "recap",
    "notice",
    "close",
    "reminder",
    "digest",
]


@dataclass(frozen=True)
class Attachment:
    """A file that goes with a post (the recap's word cloud); adapters upload it after the
    post's text, into the post's thread where it has one."""

    filename: str
    data: bytes
    title: str = ""


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
    # Names this post across processes and retries ("<chat>/<run>/question:Q2"). A platform
    # that can tag a message (Slack metadata, Discord nonce) tags it with the key, so a post
    # that landed just before its sender died is found (``Port.find_post``), not repeated.
    key: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # When the run starts (an announcement): a platform that can show a time in each reader's
    # own zone (Slack's <!date>, Discord's <t:>) adds it to the text, which names the chat's.
    starts_at: datetime | None = None

    def pictures_digest(self) -> str:
        """Names the attachments by their content (the word cloud is drawn deterministically):
        an update replaces the posted pictures only when this changed."""
        hashed = hashlib.sha256()
        for attachment in self.attachments:
            hashed.update(attachment.filename.encode() + b"\0" + attachment.data)
        return hashed.hexdigest()


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

    async def member_count(self, channel: str) -> int | None:
        """How many members ``channel`` has (the recap's reach); None if the platform
        cannot tell."""
        ...

    async def find_post(
        self,
        channel: str,
        key: str,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
        since: datetime,
    ) -> PostedRef | None:
        """The post tagged ``key`` made since ``since``, if it landed; asked before a post
        whose first attempt may have landed (its sender died or timed out) is sent again.
        ``None`` when it did not land, or when the platform dedupes by key on its own."""
        ...

    async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
        """``find_post`` for a direct message to ``user`` (a nudge sent again)."""
        ...


class NothingToFind:
    """``find_post`` and ``find_dm`` for ports whose platform dedupes a retried post by its
    key on its own (Discord's nonce) or whose posts cannot half-fail (a terminal, a test
    double)."""

    async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
        return None

    async def find_post(
        self,
        channel: str,
        key: str,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
        since: datetime,
    ) -> PostedRef | None:
        return None


@runtime_checkable
class ZonePort(Protocol):
    """What a port whose platform knows each person's time zone also does (Slack's
    users.info). Optional: elsewhere reminders keep to the chat's zone."""

    async def user_zone(self, user: User) -> str | None:
        """The person's IANA zone name; None if the platform cannot tell."""
        ...


EventStatus = Literal["active", "completed", "canceled"]


@dataclass(frozen=True)
class EventDetails:
    """A run as a platform's own calendar shows it (Discord's guild scheduled events).

    ``key`` names the run's event across processes ("<chat>/<run>/event"): a platform that
    can tag an event with it finds one whose creation answer was lost (``find_event``).
    """

    key: str
    title: str
    description: str
    start: datetime
    end: datetime
    channel: str


@runtime_checkable
class EventPort(Protocol):
    """What a port whose platform keeps scheduled events also does. Optional: the engine
    asks ``isinstance(port, EventPort)`` and leaves the events out on any other platform."""

    async def save_event(self, event_id: str | None, details: EventDetails) -> str:
        """Create the event (``event_id`` None) or edit it; its id."""
        ...

    async def set_event_status(self, event_id: str, status: EventStatus) -> None: ...

    async def event_interested(self, event_id: str) -> int | None:
        """How many people said they are interested; None if the platform cannot tell."""
        ...

    async def find_event(self, details: EventDetails) -> str | None:
        """The id of the event made for ``details.key``, if an earlier create landed."""
        ...
