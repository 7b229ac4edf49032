"""The Telegram Port: posts, DMs, edits and the recap through the Bot API, paced by the send
queue.

What Telegram cannot do, and what follows (README "Run it in Telegram"):
- a bot cannot search a chat's history, and the Bot API has no idempotency key, so a post
  whose answer was lost (sent, then the connection dropped) cannot be found: ``find_post``
  returns None and the engine sends it again. On Telegram chathost is at-least-once: such a
  post may show twice, it is never lost.
- a bot cannot message someone who never started it (403): a nudge then goes to the group as
  a mention, and the person is remembered as unreachable until they write to the bot.

The recap's parts (details replying to the headline, the word cloud) cannot be looked up
later either, so the headline's ``PostedRef.thread_id`` carries their ids
(``recap:11,12,13;photo:14``): a restarted process edits them in place from the stored ref.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.adapters.telegram import render
from bot.adapters.telegram.hosts import People
from bot.adapters.telegram.send_queue import SendQueue
from bot.core.events import User
from bot.core.plan import Plan
from bot.core.ports import NothingToFind, Outgoing, PortError, PostedRef

log = logging.getLogger("chathost.telegram")

T = TypeVar("T")
TOPIC_NAME_LIMIT = 128
_RECAP = "recap:"
_PHOTO = ";photo:"
# Links in questions and recaps stay links, without a preview card taking the screen.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def platform_call(what: str, call: Awaitable[T]) -> T:
    """A Bot API call with Telegram's errors as PortErrors the engine understands: refusals
    are permanent (retrying sends the same refusal), the network is not."""
    try:
        return await call
    except RetryAfter:
        raise  # the send queue waits it out
    except Forbidden as exc:
        raise PortError(f"{what}: {exc.message}", kind="forbidden", permanent=True) from exc
    except BadRequest as exc:
        raise PortError(f"{what}: {exc.message}", kind="bad_request", permanent=True) from exc
    except NetworkError as exc:
        raise PortError(f"{what}: {exc.message}", kind="network") from exc
    except TelegramError as exc:
        raise PortError(f"{what}: {exc.message}") from exc


@dataclass
class RecapRecord:
    """The parts of a posted recap: detail message ids, the word cloud's, its content."""

    details: list[int] = field(default_factory=list)
    photo: int | None = None
    digest: str | None = None

    def encode(self) -> str:
        photo = f"{_PHOTO}{self.photo}" if self.photo is not None else ""
        return _RECAP + ",".join(str(d) for d in self.details) + photo

    @classmethod
    def decode(cls, thread_id: str | None) -> RecapRecord:
        if not thread_id or not thread_id.startswith(_RECAP):
            return cls()
        details, _, photo = thread_id[len(_RECAP) :].partition(_PHOTO)
        ids = [int(d) for d in details.split(",") if d.strip().isdigit()]
        return cls(ids, int(photo) if photo.isdigit() else None)


class TelegramPort(NothingToFind):
    """Implements bot.core.ports.Port; ``find_post`` finds nothing (no history search)."""

    def __init__(self, bot: Bot, queue: SendQueue, plan: Plan, people: People) -> None:
        self.bot = bot
        self.queue = queue
        self.plan = plan
        self.people = people
        self.closing = False
        self._chats: dict[str, int] = {}
        self._forums: dict[int, bool] = {}
        self._recaps: dict[tuple[int, int], RecapRecord] = {}
        self._shown: dict[tuple[int, int], str] = {}

    # finding chats

    async def resolve(self, channel: str) -> int:
        """A plan's channel: a group id (``-100...``) or ``@username``."""
        key = channel.strip()
        if key.lstrip("-").isdigit():
            return int(key)
        if key not in self._chats:
            chat = await platform_call(f"chat {channel}", self.bot.get_chat(key))
            self._chats[key] = chat.id
            self._forums[chat.id] = bool(chat.is_forum)
        return self._chats[key]

    async def is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forums:
            chat = await platform_call(f"chat {chat_id}", self.bot.get_chat(chat_id))
            self._forums[chat_id] = bool(chat.is_forum)
        return self._forums[chat_id]

    # sending

    async def send_text(
        self,
        chat_id: int,
        html: str,
        *,
        reply_to: int | None = None,
        topic: int | None = None,
    ) -> Message:
        """One message of HTML (already under the limit) through the chat's lane."""
        self._check_open()
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        sent = await self._queued(
            chat_id,
            lambda: platform_call(
                f"message to {chat_id}",
                self.bot.send_message(
                    chat_id,
                    html,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=reply,
                    message_thread_id=topic,
                    link_preview_options=NO_PREVIEW,
                ),
            ),
        )
        self._shown[(chat_id, sent.message_id)] = html
        return sent

    async def _send_chunks(
        self, chat_id: int, chunks: list[str], *, reply_to: int | None, topic: int | None
    ) -> Message:
        first = await self.send_text(chat_id, chunks[0], reply_to=reply_to, topic=topic)
        for chunk in chunks[1:]:  # the rest of a long message follows it, in its place
            await self.send_text(chat_id, chunk, reply_to=reply_to, topic=topic)
        return first

    async def _where(self, chat_id: int, thread_id: str | None) -> tuple[int | None, int | None]:
        """A thread id as Telegram places a message there: a forum's topic, else a reply."""
        if not thread_id or not thread_id.isdigit():
            return None, None
        if await self.is_forum(chat_id):
            return None, int(thread_id)
        return int(thread_id), None

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        chat_id = await self.resolve(channel)
        reply_to, topic = await self._where(chat_id, thread_id)
        if message.kind == "recap" and message.recap is not None:
            return await self._post_recap(chat_id, message, reply_to=reply_to, topic=topic)
        if start_thread and await self.is_forum(chat_id):
            topic = await self._open_topic(chat_id, start_thread)
            reply_to = None
        prefix = render.mention(message.mention) if message.mention else ""
        chunks = render.message_chunks(message.text, prefix)
        sent = await self._send_chunks(chat_id, chunks, reply_to=reply_to, topic=topic)
        if start_thread:  # the topic, or the message people reply to
            opened = topic if topic is not None else sent.message_id
            return PostedRef(str(chat_id), str(sent.message_id), str(opened))
        return PostedRef(str(chat_id), str(sent.message_id))

    async def _open_topic(self, chat_id: int, name: str) -> int:
        self._check_open()
        topic = await self._queued(
            chat_id,
            lambda: platform_call(
                f"topic in {chat_id}",
                self.bot.create_forum_topic(chat_id, name[:TOPIC_NAME_LIMIT]),
            ),
            what="createForumTopic",
        )
        return topic.message_thread_id

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        """By DM where the person started the bot; else (403, remembered) in the chat's group
        as a mention, so a nudge still reaches them."""
        user_id = self.people.id_of(user.id) or self.people.id_of(user.name)
        if user_id is None:
            raise PortError(
                f"cannot DM {user.label}: Telegram bots can only find people by id, and "
                f"{user.label} has not written in a group the bot is in yet",
                kind="config",
                permanent=True,
            )
        if user_id not in self.people.unreachable:
            try:
                chunks = render.message_chunks(message.text)
                sent = await self._send_chunks(user_id, chunks, reply_to=None, topic=None)
                return PostedRef(str(user_id), str(sent.message_id))
            except PortError as exc:
                if exc.kind != "forbidden":
                    raise
                log.info("%s has not started the bot; writing to them in the group", user_id)
                self.people.unreachable.add(user_id)
        group = self._group_for(message, user_id)
        if group is None:
            raise PortError(f"cannot reach {user.label} by DM or in a group", permanent=True)
        who = User(str(user_id), user.name, display=user.display)
        chunks = render.message_chunks(message.text, render.mention(who))
        sent = await self._send_chunks(group, chunks, reply_to=None, topic=None)
        return PostedRef(str(group), str(sent.message_id))

    def _group_for(self, message: Outgoing, user_id: int) -> int | None:
        """The group of the chat the message is about (its key starts with the chat's id),
        else where the person last spoke."""
        chat_id = (message.key or "").split("/", 1)[0]
        for chat in self.plan.chats:
            if chat.id == chat_id and chat.channel.lstrip("-").isdigit():
                return int(chat.channel)
            if chat.id == chat_id and chat.channel in self._chats:
                return self._chats[chat.channel]
        return self.people.group_of(user_id)

    # editing

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        chat_id, message_id = int(ref.channel_id), int(ref.message_id)
        if message.kind == "recap" and message.recap is not None:
            await self._update_recap(chat_id, message_id, ref.thread_id, message)
            return
        await self._edit(chat_id, message_id, render.message_chunks(message.text)[0])

    async def _edit(self, chat_id: int, message_id: int, html: str) -> None:
        if self._shown.get((chat_id, message_id)) == html:
            return  # Telegram refuses an edit that changes nothing
        self._check_open()
        try:
            await self._queued(
                chat_id,
                lambda: platform_call(
                    f"edit {message_id} in {chat_id}",
                    self.bot.edit_message_text(
                        html,
                        chat_id=chat_id,
                        message_id=message_id,
                        parse_mode=ParseMode.HTML,
                        link_preview_options=NO_PREVIEW,
                    ),
                ),
                what="editMessageText",
                counts=False,
            )
        except PortError as exc:
            if "not modified" not in str(exc):
                raise
        self._shown[(chat_id, message_id)] = html

    async def delete(self, chat_id: int, message_id: int) -> None:
        """Delete one of the bot's messages; one already gone is not an error."""
        with _quiet(f"delete {message_id} in {chat_id}"):
            await self._queued(
                chat_id,
                lambda: platform_call(
                    f"delete {message_id}", self.bot.delete_message(chat_id, message_id)
                ),
                what="deleteMessage",
                counts=False,
            )

    # the recap: a headline, details replying to it, the word cloud last

    async def _post_recap(
        self, chat_id: int, message: Outgoing, *, reply_to: int | None, topic: int | None
    ) -> PostedRef:
        assert message.recap is not None
        parts = render.recap_parts(message.recap)
        head = await self.send_text(chat_id, parts.headline, reply_to=reply_to, topic=topic)
        record = RecapRecord()
        self._recaps[(chat_id, head.message_id)] = record
        for part in parts.details:
            sent = await self.send_text(chat_id, part, reply_to=head.message_id, topic=topic)
            record.details.append(sent.message_id)
        await self._pictures(chat_id, head.message_id, record, message, topic)
        return PostedRef(str(chat_id), str(head.message_id), record.encode())

    async def _update_recap(
        self, chat_id: int, head: int, thread_id: str | None, message: Outgoing
    ) -> None:
        assert message.recap is not None
        record = self._recaps.get((chat_id, head)) or RecapRecord.decode(thread_id)
        self._recaps[(chat_id, head)] = record
        parts = render.recap_parts(message.recap)
        await self._edit(chat_id, head, parts.headline)
        topic = None  # a reply lands next to the message it replies to, topic and all
        for index, part in enumerate(parts.details):
            if index < len(record.details):
                await self._edit(chat_id, record.details[index], part)
            else:
                sent = await self.send_text(chat_id, part, reply_to=head, topic=topic)
                record.details.append(sent.message_id)
        for extra in record.details[len(parts.details) :]:
            await self.delete(chat_id, extra)
        del record.details[len(parts.details) :]
        await self._pictures(chat_id, head, record, message, topic)

    async def _pictures(
        self, chat_id: int, head: int, record: RecapRecord, message: Outgoing, topic: int | None
    ) -> None:
        """The word cloud as a photo replying to the headline; replaced (deleted, sent
        again) when its content changed, removed when there is none."""
        digest = message.pictures_digest() if message.attachments else None
        if digest == record.digest and (record.photo is not None or digest is None):
            return
        if record.photo is not None:
            await self.delete(chat_id, record.photo)
            record.photo = None
        record.digest = digest
        if not message.attachments:
            return
        picture = message.attachments[0]
        self._check_open()
        sent = await self._queued(
            chat_id,
            lambda: platform_call(
                f"photo to {chat_id}",
                self.bot.send_photo(
                    chat_id,
                    picture.data,
                    caption=render.caption(picture.title) or None,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=ReplyParameters(head, allow_sending_without_reply=True),
                    message_thread_id=topic,
                    filename=picture.filename,
                ),
            ),
            what="sendPhoto",
        )
        record.photo = sent.message_id

    # reading

    async def member_count(self, channel: str) -> int | None:
        """The recap's reach: the group's members (bots included, as Telegram counts)."""
        try:
            chat_id = await self.resolve(channel)
            return await platform_call(
                f"members of {channel}", self.bot.get_chat_member_count(chat_id)
            )
        except PortError as exc:
            log.warning("cannot count the members of %s: %s", channel, exc)
            return None

    async def _queued(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[T]],
        *,
        what: str = "sendMessage",
        counts: bool = True,
    ) -> T:
        """``call`` in the chat's lane; 429s waited out there, until the queue gives up."""
        try:
            return await self.queue.send(str(chat_id), call, what=what, counts=counts)
        except RetryAfter as exc:
            raise PortError(f"{what}: Telegram kept rate limiting ({exc})", kind="rate") from exc

    def _check_open(self) -> None:
        if self.closing:
            raise PortError("chathost is shutting down", kind="closing")


@contextlib.contextmanager
def _quiet(what: str) -> Iterator[None]:
    try:
        yield
    except PortError as exc:
        log.info("could not %s: %s", what, exc)
