"""What a handler is given: the services it acts through, and the call it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.commands.args import Args
from bot.core.engine import Engine
from bot.core.events import Command, CommandReply
from bot.core.plan import Chat
from bot.core.store import RunRow, Store


@dataclass(frozen=True)
class Services:
    """The engine (runs, posts, recaps) and, through it, the store."""

    engine: Engine

    @property
    def store(self) -> Store:
        return self.engine.store

    def now(self) -> datetime:
        return self.engine.clock.now()


@dataclass(frozen=True)
class Call:
    """A command with its arguments parsed against the table."""

    command: Command
    args: Args


@dataclass(frozen=True)
class ChatCall(Call):
    """A command that acts on one chat: the chat, and its open run if it has one (read under
    the run's lock, so it is current)."""

    chat: Chat
    run: RunRow | None


PersonHandler = Callable[[Services, Call], Awaitable[CommandReply]]
ChatHandler = Callable[[Services, ChatCall], Awaitable[CommandReply]]


def no(text: str) -> CommandReply:
    return CommandReply(False, text)


def yes(text: str) -> CommandReply:
    return CommandReply(True, text)


def clock(when: datetime, chat: Chat) -> str:
    """A time as the chat's own zone shows it: ``Tue 01 Dec 19:30 GMT``."""
    local = when.astimezone(chat.zone)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"
