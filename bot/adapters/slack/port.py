"""The core's Port on Slack: post, send_dm and update through the per-channel send queue.

Failures become PortError; ``permanent`` marks the ones a retry cannot fix (a channel that
does not exist, a bot that is not in it, a revoked token), so the engine tells the hosts
instead of retrying.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import SlackMessage, render
from bot.adapters.slack.directory import Directory
from bot.adapters.slack.reach import network_reason
from bot.adapters.slack.send_queue import SendQueue
from bot.core.events import User
from bot.core.ports import Attachment, Outgoing, PortError, PostedRef

log = logging.getLogger("chathost.slack.port")

# The message metadata type chathost tags its posts with (``event_payload.key`` is the post's
# key, and ``part`` numbers the later messages of a multi-message post), so a post that landed
# before its sender died can be found again, and a recap's details can be edited after a
# restart. Reading it back needs the history scopes the app has anyway to hear the chat.
POST_EVENT = "chathost_post"
# Multi-message posts (recaps) whose later messages an update can still edit.
LATER_PARTS_KEPT = 200
# How many messages back a lost post is looked for (newest first); a chat is far smaller.
FIND_LIMIT = 1000

# Slack errors that repeat however often the call is retried.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "restricted_action",
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "cannot_dm_bot",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "ekm_access_denied",
    }
)


@asynccontextmanager
async def port_errors(what: str) -> AsyncIterator[None]:
    """Turn Slack and network failures into the core's PortError."""
    try:
        yield
    except SlackApiError as exc:
        error = _slack_error(exc)
        permanent = error in PERMANENT_ERRORS
        raise PortError(f"{what}: {error}", kind=error, permanent=permanent) from exc
    except (ClientError, TimeoutError) as exc:  # transient: the engine retries with backoff
        raise PortError(f"{what}: {network_reason(exc)}", kind="network") from exc


def _slack_error(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or "unknown_error")
    except Exception:  # not a JSON body (a proxy's error page)
        return f"http_{getattr(exc.response, 'status_code', '?')}"


@dataclass
class _LaterParts:
    """The messages a post made after its first (a recap's details), so an update can edit
    them too; ``None`` for a part that failed to post."""

    thread_id: str | None
    ts: list[str | None] = field(default_factory=list)
    # The files shared into the post's thread (the word cloud), and what they were drawn
    # from: an update replaces them only when that changed (None: not known, so replace).
    files: list[str] = field(default_factory=list)
    digest: str | None = None


class SlackPort:
    def __init__(self, client: AsyncWebClient, queue: SendQueue, directory: Directory) -> None:
        self.client = client
        self.queue = queue
        self.directory = directory
        self._later_parts: dict[str, _LaterParts] = {}  # first part's ts -> the others
        self._partless: set[str] = set()  # posts whose parts were looked for and not found

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        async with port_errors(f"posting {message.kind} to {channel}"):
            channel_id = await self.directory.channel_id(channel)
        if channel_id is None:
            raise PortError(
                f"no channel {channel!r} that chathost can see (invite the app to it)",
                kind="channel_not_found",
                permanent=True,
            )
        threaded = thread_id is not None or start_thread is not None
        parts = render(message, threaded=threaded, mention=True)
        ts = await self._deliver(channel_id, parts, thread_id, message.kind, message.key)
        if message.attachments:
            later = self._later_parts.get(ts) or _LaterParts(thread_id)
            for attachment in message.attachments:
                later.files += await self._upload(channel_id, thread_id or ts, attachment)
            later.digest = message.pictures_digest()
            self._remember(ts, later)
        return PostedRef(channel_id, ts, ts if start_thread else None)

    async def _upload(self, channel_id: str, thread_ts: str, attachment: Attachment) -> list[str]:
        """A file into the post's thread (the recap's word cloud); the ids of what was shared.
        The post has landed, so a failure is logged, never raised: a retry would post it all
        again."""
        try:
            async with port_errors(f"uploading {attachment.filename} to {channel_id}"):
                response = await self.client.files_upload_v2(
                    channel=channel_id,
                    thread_ts=thread_ts,
                    file=attachment.data,
                    filename=attachment.filename,
                    title=attachment.title or attachment.filename,
                )
        except PortError as exc:
            log.warning("%s (needs the files:write scope)", exc)
            return []
        files = response.get("files") or []
        return [str(f["id"]) for f in files if isinstance(f, dict) and f.get("id")]

    async def _replace_pictures(
        self, ref: PostedRef, message: Outgoing, later: _LaterParts
    ) -> None:
        """The word cloud is drawn from the answers: after a /forgetme (or late answers) the
        shared one may show words that must go. Slack cannot swap a file's content, so the
        old file is deleted (its share with it) and the new one shared into the same thread."""
        digest = message.pictures_digest()
        if later.digest == digest:
            return
        for file_id in list(later.files):
            try:
                async with port_errors(f"deleting the old {file_id} of {ref.message_id}"):
                    await self.client.files_delete(file=file_id)
                later.files.remove(file_id)
            except PortError as exc:
                log.warning("%s; the new picture is shared beside it", exc)
        thread_ts = later.thread_id or ref.message_id
        for attachment in message.attachments:
            later.files += await self._upload(ref.channel_id, thread_ts, attachment)
        later.digest = digest

    async def user_zone(self, user: User) -> str | None:
        """The person's own time zone (users.info ``tz``), for an async chat's reminders."""
        return await self.directory.user_zone(user.id)

    async def member_count(self, channel: str) -> int | None:
        async with port_errors(f"counting the members of {channel}"):
            channel_id = await self.directory.channel_id(channel)
            if channel_id is None:
                return None
            info = await self.client.conversations_info(
                channel=channel_id, include_num_members=True
            )
        count = (info.get("channel") or {}).get("num_members")
        return count if isinstance(count, int) else None

    async def find_post(
        self,
        channel: str,
        key: str,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
        since: datetime,
    ) -> PostedRef | None:
        """Look for our post tagged ``key`` in the channel's history (or the thread's)."""
        async with port_errors(f"looking for {key} in {channel}"):
            channel_id = await self.directory.channel_id(channel)
            if channel_id is None:
                return None
            ts = await self._find_tagged(channel_id, key, thread_id, since)
        if ts is None:
            return None
        return PostedRef(channel_id, ts, ts if start_thread else None)

    async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
        """Look for our DM tagged ``key`` in the conversation with ``user``."""
        async with port_errors(f"looking for {key} in the DMs of {user.label}"):
            user_id = await self._user_id(user)
            if user_id is None:
                return None
            channel_id = await self.directory.dm_channel(user_id)
            ts = await self._find_tagged(channel_id, key, None, since)
        return None if ts is None else PostedRef(channel_id, ts)

    async def _find_tagged(
        self, channel_id: str, key: str, thread_id: str | None, since: datetime
    ) -> str | None:
        args: dict[str, Any] = {
            "channel": channel_id,
            "oldest": f"{since.timestamp():.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread_id:
            pages = await self.client.conversations_replies(ts=thread_id, **args)
        else:
            pages = await self.client.conversations_history(**args)
        seen = 0
        async for page in pages:
            for found in page.get("messages") or []:
                meta = found.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == POST_EVENT and payload.get("key") == key:
                    return str(found["ts"])
                seen += 1
            if seen >= FIND_LIMIT:
                break
        return None

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        async with port_errors(f"sending a {message.kind} DM to {user.label}"):
            user_id = await self._user_id(user)
            if user_id is None:
                raise PortError(
                    f"no Slack user {user.label!r}", kind="user_not_found", permanent=True
                )
            channel_id = await self.directory.dm_channel(user_id)
        parts = render(message, mention=False)
        ts = await self._deliver(channel_id, parts, None, message.kind, message.key)
        return PostedRef(channel_id, ts)

    async def _user_id(self, user: User) -> str | None:
        """A person's Slack id from the id or the name the plan or the store knows them by."""
        return await self.directory.user_id(user.id) or await self.directory.user_id(user.name)

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        """Replace a posted message, and the parts that followed it (a recap's details in its
        thread) when this process posted them; a new part beyond them is posted. Parts posted
        before a restart are not known, so only their head is updated then."""
        first, *rest = render(message, threaded=ref.thread_id is not None)
        await self._edit(ref.channel_id, ref.message_id, first)
        later = self._later_parts.get(ref.message_id)
        more = rest or message.attachments
        if later is None and more and message.key and ref.message_id not in self._partless:
            later = await self._recover_parts(ref, message.key, message.attachments)
        if later is None:
            return
        await self._update_rest(ref, message, rest, later)
        await self._replace_pictures(ref, message, later)

    async def _update_rest(
        self, ref: PostedRef, message: Outgoing, rest: list[SlackMessage], later: _LaterParts
    ) -> None:
        for index, part in enumerate(rest):
            known = later.ts[index] if index < len(later.ts) else None
            try:
                if known is not None:
                    await self._edit(ref.channel_id, known, part)
                    continue
                where = (later.thread_id or ref.message_id) if part.in_thread else later.thread_id
                ts = await self._post_one(
                    ref.channel_id, part, where, message.kind, message.key, index + 1
                )
                later.ts[index : index + 1] = [ts]
            except PortError as exc:
                log.warning("part %d of %s was not updated: %s", index + 1, ref.message_id, exc)

    async def _recover_parts(
        self, ref: PostedRef, key: str, attachments: tuple[Attachment, ...]
    ) -> _LaterParts | None:
        """The later parts of a post made before this process started, found by their
        metadata in the post's thread (one conversations.replies call, then remembered:
        Slack allows few of those a minute). None when they cannot be found: editing only the
        head beats posting the details a second time."""
        try:
            async with port_errors(f"looking for the parts of {key}"):
                pages = await self.client.conversations_replies(
                    channel=ref.channel_id,
                    ts=ref.message_id,
                    include_all_metadata=True,
                    limit=200,
                )
                names = {a.filename for a in attachments}
                later = await _tagged_parts(pages, ref.message_id, key, names)
        except PortError as exc:
            log.warning("%s; only its first message is updated", exc)
            return None
        if later is not None:
            self._remember(ref.message_id, later)
        elif len(self._partless) < LATER_PARTS_KEPT:  # asked once: Slack's answer won't change
            self._partless.add(ref.message_id)
        return later

    async def _edit(self, channel_id: str, ts: str, part: SlackMessage) -> None:
        async with port_errors(f"updating {ts} in {channel_id}"):
            await self.queue.send(
                channel_id,
                lambda: self.client.chat_update(channel=channel_id, ts=ts, **_content(part)),
                what="chat.update",
            )

    async def _deliver(
        self,
        channel_id: str,
        parts: list[SlackMessage],
        thread_id: str | None,
        kind: str,
        key: str | None,
    ) -> str:
        """Post the parts in order; the first one's ts. Only the first may fail the post:
        once it landed, a retry by the engine would post it twice. The first carries the
        post's key as metadata, for ``find_post``."""
        first_ts = await self._post_one(channel_id, parts[0], thread_id, kind, key)
        later = _LaterParts(thread_id)
        for number, part in enumerate(parts[1:], 1):
            where = (thread_id or first_ts) if part.in_thread else thread_id
            try:
                later.ts.append(await self._post_one(channel_id, part, where, kind, key, number))
            except PortError as exc:
                later.ts.append(None)
                log.warning("part of a %s in %s was not posted: %s", kind, channel_id, exc)
        if later.ts:
            self._remember(first_ts, later)
        return first_ts

    def _remember(self, first_ts: str, later: _LaterParts) -> None:
        self._later_parts[first_ts] = later
        while len(self._later_parts) > LATER_PARTS_KEPT:
            del self._later_parts[next(iter(self._later_parts))]

    async def _post_one(
        self,
        channel_id: str,
        part: SlackMessage,
        thread_ts: str | None,
        kind: str,
        key: str | None = None,
        number: int = 0,
    ) -> str:
        metadata = None
        if key:
            payload: dict[str, Any] = {"key": key, "part": number} if number else {"key": key}
            metadata = {"event_type": POST_EVENT, "event_payload": payload}
        async with port_errors(f"posting {kind} to {channel_id}"):
            response = await self.queue.send(
                channel_id,
                lambda: self.client.chat_postMessage(
                    channel=channel_id,
                    thread_ts=thread_ts,
                    unfurl_links=False,
                    metadata=metadata,
                    **_content(part),
                ),
                what="chat.postMessage",
            )
        return str(response["ts"])


async def _tagged_parts(
    pages: Any, first_ts: str, key: str, filenames: set[str]
) -> _LaterParts | None:
    """The parts tagged ``key`` in a thread's pages, in order; the thread the post went into
    (when its first message is itself a reply); the files a bot shared there under the names
    of the post's attachments (a share message carries no metadata of ours)."""
    found: dict[int, str] = {}
    thread_id: str | None = None
    files: list[str] = []
    async for page in pages:
        for message in page.get("messages") or []:
            ts = str(message.get("ts"))
            if message.get("bot_id"):
                files += _shared_files(message, filenames)
            if ts == first_ts and message.get("thread_ts") not in (None, ts):
                thread_id = str(message["thread_ts"])
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            number = payload.get("part")
            ours = meta.get("event_type") == POST_EVENT and payload.get("key") == key
            if ours and isinstance(number, int) and number > 0:
                found[number] = ts
    if not found and not files:
        return None
    parts = [found.get(n) for n in range(1, max(found, default=0) + 1)]
    return _LaterParts(thread_id, parts, files)


def _shared_files(message: dict[str, Any], filenames: set[str]) -> list[str]:
    shared = message.get("files") or []
    return [
        str(f["id"])
        for f in shared
        if isinstance(f, dict) and f.get("id") and f.get("name") in filenames
    ]


def _content(part: SlackMessage) -> dict[str, Any]:
    content: dict[str, Any] = {"text": part.text}
    if part.blocks:
        content["blocks"] = list(part.blocks)
    return content
