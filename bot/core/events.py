"""Platform-neutral values that adapters hand to the engine.

Adapters translate their platform's payloads into these and nothing else, so the engine
never learns which platform a message came from beyond the ``platform`` string. Message text
is plain: each adapter turns its platform's markup (link and mention syntax, escapes) into
what people read (``label (https://...)``, ``@name``, ``#channel``) before the core sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The role an adapter gives a person whom the platform's own settings make a host of every
# chat (a host role set for the whole bot rather than in the plan). ``Chat.hosted_by`` honours
# it; adapters never pass a platform role of this name through.
EVERY_CHAT_HOST = "chathost:every-chat-host"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    is_bot: bool = False
    display: str = ""
    # The roles this person holds on the platform (by name and by id), for plans that list a
    # host role (``role:Tea Hosts``), and ``EVERY_CHAT_HOST`` when the platform makes them one.
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # Roles given as any iterable become a set, so equal people compare and hash equal.
        object.__setattr__(self, "roles", frozenset(self.roles))

    @property
    def label(self) -> str:
        return self.display or self.name

    @property
    def hosts_every_chat(self) -> bool:
        return EVERY_CHAT_HOST in self.roles



@dataclass(frozen=True)
class ChannelRef:
    """A channel as the platform names it: plans may use either the id or the name."""

    id: str
    name: str = ""

    def matches(self, wanted: str) -> bool:
        wanted = wanted.lstrip("#").lower()
        return wanted in {self.id.lower(), self.name.lstrip("#").lower()}


@dataclass(frozen=True)
class IncomingMessage:
    platform: str
    channel: ChannelRef
    message_id: str
    user: User
    text: str
    at: datetime
    thread_id: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class MessageEdited:
    platform: str
    channel: ChannelRef
    message_id: str
    text: str
    at: datetime


@dataclass(frozen=True)
class MessageDeleted:
    platform: str
    channel: ChannelRef
    message_id: str
    at: datetime


@dataclass(frozen=True)
class ReactionChanged:
    platform: str
    channel: ChannelRef
    message_id: str
    user: User
    emoji: str
    added: bool
    at: datetime


@dataclass(frozen=True)
class Command:
    """A slash command or typed command; ``args`` is the rest of the line."""

    platform: str
    channel: ChannelRef
    user: User
    name: str
    at: datetime
    args: str = ""


@dataclass(frozen=True)
class Upcoming:
    chat_id: str
    title: str
    start: datetime
    platform: str


@dataclass(frozen=True)
class Deadline:
    """An async chat's open question and when it closes (/chatstatus)."""

    question_id: str
    closes: datetime


@dataclass(frozen=True)
class CommandReply:
    """What the adapter shows the caller; ``public`` replies go to the channel."""

    ok: bool
    text: str
    public: bool = False
    upcoming: tuple[Upcoming, ...] = field(default_factory=tuple)
    # The calendar feed of the chats listed (/chats), when the archive has a public address.
    calendar: str | None = None
    # An async chat's open questions and their close times (/chatstatus): a platform that
    # shows times in each reader's own zone adds them so; the text names the chat's zone.
    deadlines: tuple[Deadline, ...] = field(default_factory=tuple)


PlatformEvent = IncomingMessage | MessageEdited | MessageDeleted | ReactionChanged
