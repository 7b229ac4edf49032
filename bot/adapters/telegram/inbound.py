"""Updates in: each one translated, handed to the core's ChatService, its outcome journaled.

Updates are handled one at a time in update_id order (polling and the webhook both deliver
them so), which keeps a message, its quick edit and its reactions in order. A repeated
update_id (a retried webhook, a replay after a crash between handling and confirming) is
skipped; the store would keep the message once anyway. A malformed update is logged and
skipped: one odd payload must never stop the intake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Chat, Message, Update

from bot.adapters.telegram import commands, translate
from bot.adapters.telegram.hosts import Admins, People
from bot.adapters.telegram.port import TelegramPort
from bot.adapters.telegram.render import message_chunks
from bot.core.commands import command_named
from bot.core.events import CommandReply, PlatformEvent
from bot.core.ports import PortError
from bot.core.service import ChatService

log = logging.getLogger("chathost.telegram")

ALLOWED_UPDATES = ("message", "edited_message", "message_reaction")
_SEEN_KEPT = 10_000


@dataclass(frozen=True)
class Handled:
    """What became of one update: kept briefly for health checks and tests."""

    update_id: int
    kind: str  # message, edit, reaction, command, other
    outcome: str  # stored, unchanged, skipped, duplicate, answered, malformed, error


class Journal:
    """The last outcomes, awaitable: tests wait on it instead of sleeping."""

    def __init__(self, keep: int = 1000) -> None:
        self.items: deque[Handled] = deque(maxlen=keep)
        self.count = 0
        self._changed = asyncio.Condition()

    async def add(self, item: Handled) -> None:
        self.items.append(item)
        self.count += 1
        async with self._changed:
            self._changed.notify_all()

    def of(self, update_id: int) -> list[Handled]:
        return [h for h in self.items if h.update_id == update_id]

    async def wait_for(self, update_id: int, timeout: float = 10.0) -> list[Handled]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(self.of(update_id)))
        return self.of(update_id)

    async def wait_count(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.count >= count)


class Inbound:
    def __init__(
        self,
        bot: Bot,
        port: TelegramPort,
        admins: Admins,
        people: People,
        *,
        delete_after: float = 60.0,
    ) -> None:
        self.bot = bot
        self.port = port
        self.admins = admins
        self.people = people
        self.delete_after = delete_after
        self.service: ChatService | None = None
        self.journal = Journal()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._busy = 0
        self._cleanups: set[asyncio.Task[None]] = set()

    @property
    def bot_id(self) -> int | None:
        return self.bot.bot.id if self.bot._bot_user is not None else None

    async def handle_raw(self, data: Any) -> None:
        """One update as Telegram sent it (JSON): parsed here, so that a malformed one is
        skipped alone rather than failing the batch it came in."""
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int):
            log.warning("skipped a Telegram update without an update_id: %.200r", data)
            await self.journal.add(Handled(-1, "other", "malformed"))
            return
        try:
            update = Update.de_json(data, self.bot)
        except Exception as exc:
            log.warning("skipped malformed Telegram update %s: %s", update_id, exc)
            await self.journal.add(Handled(update_id, "other", "malformed"))
            return
        await self.handle(update)

    async def handle(self, update: Update) -> None:
        if update.update_id in self._seen:
            await self.journal.add(Handled(update.update_id, "other", "duplicate"))
            return
        self._seen[update.update_id] = None
        while len(self._seen) > _SEEN_KEPT:
            self._seen.popitem(last=False)
        kind, outcome = "other", "skipped"
        async with self._tracking():
            try:
                kind, outcome = await self._dispatch(update)
            except Exception:
                outcome = "error"
                log.exception("could not handle Telegram update %s; skipped", update.update_id)
        log.debug("telegram update %s (%s): %s", update.update_id, kind, outcome)
        await self.journal.add(Handled(update.update_id, kind, outcome))

    async def _dispatch(self, update: Update) -> tuple[str, str]:
        if update.message is not None:
            return await self._message(update.message)
        if update.edited_message is not None:
            event = translate.edited(update.edited_message, bot_id=self.bot_id)
            return "edit", await self._event(event)
        if update.message_reaction is not None:
            reaction = update.message_reaction
            who = reaction.user
            roles = await self.admins.roles(reaction.chat.id, who.id) if who else frozenset()
            outcomes = [await self._event(e) for e in translate.reactions(reaction, roles)]
            return "reaction", "stored" if "stored" in outcomes else "unchanged"
        return "other", "skipped"

    async def _message(self, message: Message) -> tuple[str, str]:
        author = message.from_user
        if author is None or author.is_bot:
            return "message", "skipped"
        in_group = message.chat.type in translate.GROUP_KINDS
        self.people.saw(author.id, author.username, message.chat.id if in_group else None)
        if message.chat.type == Chat.PRIVATE:
            self.people.started(author.id)
        typed = translate.typed_command(message, self.bot.username if self.bot_id else None)
        if typed is not None:
            return "command", await self._command(message, typed)
        roles = await self.admins.roles(message.chat.id, author.id) if in_group else frozenset()
        event = translate.incoming(message, bot_id=self.bot_id, roles=roles)
        return "message", await self._event(event)

    async def _event(self, event: PlatformEvent | None) -> str:
        if event is None or self.service is None:
            return "skipped"
        return "stored" if await self.service.on_event(event) else "unchanged"

    # commands

    async def _command(self, message: Message, typed: translate.Typed) -> str:
        spec = command_named(typed.name)
        private = message.chat.type == Chat.PRIVATE
        if self.service is None or (spec is None and not private) or typed.name == "start":
            return "skipped"  # another bot's command in a group; /start only opens the DM
        assert message.from_user is not None
        author = message.from_user
        roles = frozenset() if private else await self.admins.roles(message.chat.id, author.id)
        user = translate.core_user(author, roles)
        args = commands.with_message(spec, typed.args, message)
        reply = await self.service.on_command(
            translate.command(message, translate.Typed(typed.name, args), user)
        )
        try:
            await self.answer(message, reply)
        except PortError as exc:
            # The command was done; only its answer did not go out (the bot was removed
            # from the group, Telegram is down): said in one line, not as a crash.
            log.warning("did the /%s of %s, but could not answer: %s", typed.name, user.name, exc)
            return "unanswered"
        return "answered"

    async def answer(self, message: Message, reply: CommandReply) -> None:
        """Public answers reply in the group; private ones go by DM where the person started
        the bot, else as a reply in the group that is deleted after ``delete_after``."""
        chat_id, author = message.chat.id, message.from_user
        assert author is not None
        chunks = message_chunks(reply.text)  # /chats: times in the chat's zone (no local time)
        private = message.chat.type == Chat.PRIVATE
        if not reply.public and not private and author.id not in self.people.unreachable:
            try:
                for chunk in chunks:
                    await self.port.send_text(author.id, chunk)
                return
            except PortError as exc:
                if exc.kind != "forbidden":
                    raise
                self.people.unreachable.add(author.id)
        sent = [await self.port.send_text(chat_id, c, reply_to=message.message_id) for c in chunks]
        if not reply.public and not private:
            task = asyncio.create_task(self._delete_later(chat_id, [m.message_id for m in sent]))
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    async def _delete_later(self, chat_id: int, message_ids: list[int]) -> None:
        await asyncio.sleep(self.delete_after)
        for message_id in message_ids:
            await self.port.delete(chat_id, message_id)

    # stopping

    @contextlib.asynccontextmanager
    async def _tracking(self) -> AsyncIterator[None]:
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    @property
    def busy(self) -> bool:
        return self._busy > 0

    async def drop_cleanups(self) -> None:
        """Private answers left in a group are deleted now rather than never."""
        for task in list(self._cleanups):
            task.cancel()
        self._cleanups.clear()
