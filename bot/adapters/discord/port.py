"""The core's Port on Discord: posts, threads, DMs and edits through discord.py's REST client.

Rate limits: discord.py reads the ``X-RateLimit-*`` headers and waits out 429s itself, so
there are no sleeps here; a per-channel lock keeps our own posts to one channel in order and
one at a time (Discord allows about 5 messages per 5 s per channel), so a recap split over
several messages never arrives as a burst of parallel requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp
import discord

from bot.adapters.discord.embeds import THREAD_NAME_LIMIT, Part, Rendered, render
from bot.adapters.discord.events import DiscordEvents
from bot.core.events import User
from bot.core.ports import NothingToFind, Outgoing, PortError, PostedRef

log = logging.getLogger("chathost.discord.port")

T = TypeVar("T")

# Threads hide after this long without messages (minutes); a day outlives any chat.
THREAD_ARCHIVE_MINUTES = 1440
# No @everyone/@here or role pings from plan texts; only the users we mean to nudge.
SAFE_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)
# Nonce offsets of a post's detail messages, apart from its head's (they may share a channel).
_DETAILS = 1000
_FILES = 2000
# Discord's error code for "a thread has already been created for this message".
_THREAD_EXISTS = 160004
# How many messages of a details thread are read to find a recap's parts after a restart.
_DETAILS_LOOKUP = 100
_RECORDED_KEPT = 200  # multi-message posts whose extra messages an update can still edit
_CHANNEL_MENTION = re.compile(r"^<#(\d+)>$")
_USER_MENTION = re.compile(r"^<@!?(\d+)>$")


class Activity:
    """Counts work in flight so ``stop`` can let it finish before closing the connection."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class _Recorded:
    """Messages a post made beyond its first, so an update can edit them too."""

    head: list[tuple[int, int]] = field(default_factory=list)  # (channel id, message id)
    details: list[tuple[int, int]] = field(default_factory=list)
    details_channel: int | None = None
    # The message holding the post's pictures (the word cloud), and what they were drawn
    # from: an update replaces them only when they changed (None: not known, so replace).
    files: tuple[int, int] | None = None
    files_digest: str | None = None


async def platform_call(what: str, call: Awaitable[T]) -> T:
    """Await a discord.py call; failures become PortError (permanent when retrying is futile)."""
    try:
        return await call
    except discord.Forbidden as exc:
        raise PortError(
            f"{what}: missing permission ({exc.text})", kind="forbidden", permanent=True
        ) from exc
    except discord.NotFound as exc:
        raise PortError(
            f"{what}: not found ({exc.text})", kind="not_found", permanent=True
        ) from exc
    except discord.RateLimited as exc:
        raise PortError(
            f"{what}: rate limited for {exc.retry_after:.0f}s", kind="rate_limited"
        ) from exc
    except discord.HTTPException as exc:
        # 4xx other than 429 (handled by discord.py) means the request itself is wrong.
        permanent = 400 <= exc.status < 500
        raise PortError(
            f"{what}: HTTP {exc.status} {exc.text}", kind="http", permanent=permanent
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise PortError(f"{what}: {exc.__class__.__name__}: {exc}", kind="network") from exc


class DiscordPort(NothingToFind, DiscordEvents):
    """Implements bot.core.ports.Port for one discord.py client. A retried post needs no
    lookup: it is sent again with the same nonce (made from its key), and Discord answers
    with the message that landed instead of making a copy."""

    def __init__(self, client: discord.Client, guild_ids: Sequence[int] = ()) -> None:
        self.client = client
        self.guild_ids = tuple(guild_ids)
        self.activity = Activity()
        self.closing = False
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._channel_ids: dict[str, int] = {}
        self._recorded: dict[int, _Recorded] = {}
        self._latest: dict[int, Outgoing] = {}

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        return await platform_call(what, call)  # the events' calls (events.py)

    # the Port

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        async with self._work():
            if thread_id:
                target: discord.abc.Messageable = await self._thread(thread_id)
                target_id = int(thread_id)
            else:
                text_channel = await self.resolve_channel(channel)
                target, target_id = text_channel, text_channel.id
            rendered = render(message, await self._mention(message.mention))
            async with self._locks[target_id]:
                return await self._post(target, target_id, message, rendered, start_thread)

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        async with self._work():
            person = await self._user(user)
            dm = person.dm_channel or await platform_call(f"DM to {user.label}", person.create_dm())
            rendered = render(message)
            async with self._locks[dm.id]:
                sent = await self._send_parts(dm, rendered.head, message, dm.id)
            return PostedRef(str(dm.id), str(sent[0].id))

    async def member_count(self, channel: str) -> int | None:
        """The members of the channel's server: a per-channel count would need the privileged
        Members intent, which chathost does without."""
        async with self._work():
            return (await self.resolve_channel(channel)).guild.member_count

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        """Edit a post in place; of several quick updates to one post only the newest runs."""
        async with self._work():
            key = int(ref.message_id)
            self._latest[key] = message
            async with self._locks[int(ref.channel_id)]:
                if self._latest.get(key) is not message:
                    return  # a newer version arrived while we waited; it will be applied
                try:
                    await self._update(ref, message)
                finally:
                    self._latest.pop(key, None)

    # posting

    async def _post(
        self,
        target: discord.abc.Messageable,
        target_id: int,
        message: Outgoing,
        rendered: Rendered,
        start_thread: str | None,
    ) -> PostedRef:
        first = await self._send(target, rendered.head[0], _nonce(target_id, message, 0))
        ref_thread: discord.Thread | discord.PartialMessageable | None = None
        if start_thread:
            ref_thread = await self._open_thread(first, start_thread)
        record = _Recorded()
        # Once the first message is out the post counts as delivered: a failure from here on
        # is logged, never raised, or the engine's retry would post the first message again.
        with _logged(f"the rest of a {message.kind}"):
            rest = await self._send_parts(target, rendered.head[1:], message, target_id, offset=1)
            record.head = [(target_id, m.id) for m in rest]
        where, where_id = target, target_id
        if rendered.details:
            with _logged(f"the details of a {message.kind}"):
                where, where_id = await self._details_target(
                    target, target_id, first, rendered.details_thread
                )
                sent = await self._send_parts(
                    where, rendered.details, message, where_id, offset=_DETAILS
                )
                record.details = [(where_id, m.id) for m in sent]
                record.details_channel = where_id
        if message.attachments:
            with _logged(f"the pictures of a {message.kind}"):
                pictures = await self._send_files(where, where_id, message)
                record.files = (where_id, pictures.id)
                record.files_digest = message.pictures_digest()
        if record.head or record.details or record.files:
            self._recorded[first.id] = record
            while len(self._recorded) > _RECORDED_KEPT:
                del self._recorded[next(iter(self._recorded))]
        return PostedRef(str(target_id), str(first.id), str(ref_thread.id) if ref_thread else None)

    async def _details_target(
        self,
        target: discord.abc.Messageable,
        target_id: int,
        first: discord.Message,
        name: str | None,
    ) -> tuple[discord.abc.Messageable, int]:
        """The recap's details go into a thread of its headline when one can be opened."""
        if name and isinstance(target, discord.TextChannel):
            thread = await self._open_thread(first, name)
            if thread is not None:
                return thread, thread.id
        return target, target_id

    async def _open_thread(
        self, message: discord.Message, name: str
    ) -> discord.Thread | discord.PartialMessageable | None:
        """A thread from a posted message; None (logged) when Discord refuses, since the post
        itself already landed and people can still answer with labels."""
        try:
            return await platform_call(
                "create thread",
                message.create_thread(
                    name=name[:THREAD_NAME_LIMIT] or "thread",
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                ),
            )
        except PortError as exc:
            cause = exc.__cause__
            if isinstance(cause, discord.HTTPException) and cause.code == _THREAD_EXISTS:
                # A retry Discord answered with the message it already had (same nonce): the
                # thread opened then is this one, since a thread's id is its starter's id.
                return self.client.get_partial_messageable(message.id)
            log.warning("could not open thread %r: %s", name, exc)
            return None

    async def _send_parts(
        self,
        target: discord.abc.Messageable,
        parts: Sequence[Part],
        message: Outgoing,
        target_id: int,
        offset: int = 0,
    ) -> list[discord.Message]:
        sent = []
        for index, part in enumerate(parts, start=offset):
            sent.append(await self._send(target, part, _nonce(target_id, message, index)))
        return sent

    async def _send_files(
        self,
        target: discord.abc.Messageable,
        target_id: int,
        message: Outgoing,
        nonce: str | None = None,
    ) -> discord.Message:
        """The post's attachments (the recap's word cloud) in one message, after its details."""
        return await platform_call(
            "upload files",
            target.send(
                files=_files(message),
                nonce=nonce or _nonce(target_id, message, _FILES),
                allowed_mentions=SAFE_MENTIONS,
            ),
        )

    async def _send(
        self, target: discord.abc.Messageable, part: Part, nonce: str
    ) -> discord.Message:
        return await platform_call(
            "send message",
            target.send(
                content=part.content,
                embeds=list(part.embeds),
                nonce=nonce,
                allowed_mentions=SAFE_MENTIONS,
            ),
        )

    async def _update(self, ref: PostedRef, message: Outgoing) -> None:
        rendered = render(message, await self._mention(message.mention))
        channel = self.client.get_partial_messageable(int(ref.channel_id))
        head = rendered.head[0]
        await platform_call(
            "edit message",
            channel.get_partial_message(int(ref.message_id)).edit(
                content=head.content, embeds=list(head.embeds), allowed_mentions=SAFE_MENTIONS
            ),
        )
        record = self._recorded.get(int(ref.message_id))
        if record is None and rendered.details:
            record = await self._recover_details(int(ref.message_id))
        if record is None:
            return  # nothing more is known of the post: its headline is updated
        for (channel_id, message_id), part in zip(record.head, rendered.head[1:], strict=False):
            await self._edit(channel_id, message_id, part)
        for (channel_id, message_id), part in zip(record.details, rendered.details, strict=False):
            await self._edit(channel_id, message_id, part)
        extra = rendered.details[len(record.details) :]
        if extra and record.details_channel is not None:
            where = self.client.get_partial_messageable(record.details_channel)
            offset = _DETAILS + len(record.details)
            sent = await self._send_parts(where, extra, message, record.details_channel, offset)
            record.details += [(record.details_channel, m.id) for m in sent]
        await self._replace_pictures(record, message)

    async def _replace_pictures(self, record: _Recorded, message: Outgoing) -> None:
        """The word cloud is drawn from the answers: after a /forgetme (or late answers) the
        posted one may show words that must go. Its message keeps its place in the thread and
        gets the new picture; with no picture left it is deleted."""
        digest = message.pictures_digest()
        if record.files_digest == digest:
            return
        if record.files is not None:
            channel_id, message_id = record.files
            posted = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
            if message.attachments:
                await platform_call("replace pictures", posted.edit(attachments=_files(message)))
            else:
                await platform_call("remove pictures", posted.delete())
                record.files = None
        elif message.attachments and record.details_channel is not None:
            where = self.client.get_partial_messageable(record.details_channel)
            nonce = _nonce(record.details_channel, message, _FILES, salt=digest)
            sent = await self._send_files(where, record.details_channel, message, nonce)
            record.files = (record.details_channel, sent.id)
        record.files_digest = digest

    async def _recover_details(self, headline_id: int) -> _Recorded | None:
        """The details of a recap posted before this process started: our messages in the
        thread opened from its headline (such a thread has the headline's id), oldest first,
        and apart from them the one with the picture. None when there is no such thread (the
        details went into the channel) or it cannot be read: then only the headline is
        edited."""
        me = self.client.user.id if self.client.user else None
        thread = self.client.get_partial_messageable(headline_id)
        try:
            found = [m async for m in thread.history(limit=_DETAILS_LOOKUP)]
        except discord.HTTPException as exc:  # NotFound (no thread) and Forbidden included
            log.info("no details thread found for %s: %s", headline_id, exc)
            return None
        ours = sorted((m for m in found if m.author.id == me), key=lambda m: m.id)
        texts = [m for m in ours if not m.attachments]
        if not texts:
            return None
        record = _Recorded(
            details=[(headline_id, m.id) for m in texts], details_channel=headline_id
        )
        pictures = [m for m in ours if m.attachments]
        if pictures:
            record.files = (headline_id, pictures[-1].id)
        self._recorded[headline_id] = record
        return record

    async def _edit(self, channel_id: int, message_id: int, part: Part) -> None:
        channel = self.client.get_partial_messageable(channel_id)
        await platform_call(
            "edit message",
            channel.get_partial_message(message_id).edit(
                content=part.content, embeds=list(part.embeds), allowed_mentions=SAFE_MENTIONS
            ),
        )

    # finding channels, threads and people

    @contextlib.asynccontextmanager
    async def _work(self) -> AsyncIterator[None]:
        if self.closing:
            raise PortError("chathost is shutting down", kind="closing")
        async with self.activity.track():
            yield

    def _guilds(self) -> list[discord.Guild]:
        if not self.guild_ids:
            return list(self.client.guilds)
        return [g for g in (self.client.get_guild(i) for i in self.guild_ids) if g is not None]

    async def resolve_channel(self, wanted: str) -> discord.TextChannel | discord.VoiceChannel:
        """A plan's channel by id, ``<#id>`` or name (``dev-chat``, ``#dev-chat``)."""
        key = wanted.strip()
        mention = _CHANNEL_MENTION.match(key)
        key = mention.group(1) if mention else key.lstrip("#")
        if key.isdigit():
            found = self.client.get_channel(int(key))
            if found is None:
                found = await platform_call(
                    f"channel {wanted}", self.client.fetch_channel(int(key))
                )
            if not isinstance(found, discord.TextChannel | discord.VoiceChannel):
                raise PortError(f"channel {wanted} is not a text channel", permanent=True)
            return found
        cached = self._channel_ids.get(key.lower())
        if cached is not None:
            found = self.client.get_channel(cached)
            if isinstance(found, discord.TextChannel | discord.VoiceChannel) and (
                found.name.lower() == key.lower()
            ):
                return found
        matches = [
            c for g in self._guilds() for c in g.text_channels if c.name.lower() == key.lower()
        ]
        if not matches:
            where = ", ".join(g.name for g in self._guilds()) or "no server (is the bot invited?)"
            raise PortError(f"no channel named #{key} in {where}", kind="config", permanent=True)
        if len(matches) > 1:
            raise PortError(
                f"#{key} exists in several servers; use its id in the plan",
                kind="config",
                permanent=True,
            )
        self._channel_ids[key.lower()] = matches[0].id
        return matches[0]

    async def _thread(self, thread_id: str) -> discord.abc.Messageable:
        """A thread to post into; not cached (archived) ones are posted to by id, which
        also unarchives them."""
        if not thread_id.isdigit():
            raise PortError(f"thread {thread_id!r} is not a Discord id", permanent=True)
        found = self.client.get_channel(int(thread_id))
        if isinstance(found, discord.Thread):
            return found
        return self.client.get_partial_messageable(int(thread_id))

    async def _user(self, user: User) -> discord.abc.User:
        """A person by id, mention or name (plans may list hosts by name)."""
        mention = _USER_MENTION.match(user.id)
        key = mention.group(1) if mention else user.id
        if key.isdigit():
            found = self.client.get_user(int(key))
            if found is not None:
                return found
            return await platform_call(f"user {key}", self.client.fetch_user(int(key)))
        member = await self._member_named(user.name or user.id)
        if member is None:
            raise PortError(f"no member named {user.label} found", kind="config", permanent=True)
        return member

    async def _member_named(self, name: str) -> discord.Member | None:
        """Cached members first; else ask the gateway (works without the Members intent)."""
        wanted = name.lower().lstrip("@")
        for guild in self._guilds():
            for member in guild.members:
                if wanted in (member.name.lower(), member.display_name.lower()):
                    return member
        for guild in self._guilds():
            try:
                found = await guild.query_members(query=wanted, limit=10)
            except (TimeoutError, discord.ClientException) as exc:
                log.warning("could not look up %s in %s: %s", name, guild.name, exc)
                continue
            for member in found:
                if wanted in (member.name.lower(), member.display_name.lower()):
                    return member
        return None

    async def _mention(self, user: User | None) -> str:
        """``<@id>`` for a nudge by mention; a name we cannot resolve is written as ``@name``."""
        if user is None:
            return ""
        if user.id.isdigit():
            return f"<@{user.id}>"
        try:
            return f"<@{(await self._user(user)).id}>"
        except PortError:
            return f"@{user.label}"


def _nonce(channel_id: int, message: Outgoing, index: int, salt: str = "") -> str:
    """The same post retried by the engine gets the same nonce; with ``enforce_nonce`` Discord
    then returns the message it already created instead of posting it twice (a lost response,
    or a process that died before recording the post). The engine's key names the post even
    when a retry renders it differently (a recap with one more answer); posts without a key
    fall back to their content. Discord keeps nonces for a few minutes; at most 25 characters.
    ``salt`` tells apart messages a post adds later (a new picture) from its first ones."""
    if message.key:
        key = f"{channel_id}|{message.key}|{index}{salt}"
    else:
        mention = message.mention.id if message.mention else ""
        key = f"{channel_id}|{message.kind}|{message.question_id}|{mention}|{index}|{message.text}"
    return hashlib.sha256(key.encode()).hexdigest()[:25]


def _files(message: Outgoing) -> list[discord.File]:
    return [
        discord.File(io.BytesIO(a.data), filename=a.filename, description=a.title or None)
        for a in message.attachments
    ]


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except PortError as exc:
        log.warning("could not post %s: %s", what, exc)
