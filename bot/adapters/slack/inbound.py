"""Slack events into the core: de-duplicated, named, applied one at a time in arrival order.

Listeners only enqueue (so Slack's 3-second acknowledgement is never at risk); one worker
applies the events in order, so an edit never overtakes the message it edits. Slack re-delivers
an event it thinks was missed (``X-Slack-Retry-Num``) with the same ``event_id``: those are
skipped here, and the core ignores a message it already has in any case.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter, OrderedDict
from collections.abc import Mapping
from typing import Any

from bot.adapters.slack.directory import Directory
from bot.adapters.slack.translate import MalformedEvent, text_field, translate, user_of
from bot.core.events import PlatformEvent
from bot.core.service import ChatService

log = logging.getLogger("chathost.slack.events")

SEEN_EVENTS = 4096  # event ids remembered; Slack retries within minutes, not hours


class SeenEvents:
    """A bounded memory of event ids (oldest forgotten first)."""

    def __init__(self, size: int = SEEN_EVENTS) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """True the first time an id is seen."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, event_id: str) -> None:
        self._ids.pop(event_id, None)


class Inbound:
    def __init__(self, directory: Directory, *, seen: int = SEEN_EVENTS) -> None:
        self.directory = directory
        self.service: ChatService | None = None
        self.bot_user_id = ""
        self.seen = SeenEvents(seen)
        self.duplicates = 0
        self.malformed = 0
        self.joins: Counter[str] = Counter()  # channel id -> members joined while running
        self._queue: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def start(self, service: ChatService, bot_user_id: str) -> None:
        self.service = service
        self.bot_user_id = bot_user_id
        self._worker = asyncio.create_task(self._work(), name="slack-inbound")

    def accept(self, body: Mapping[str, Any], retry_num: str | None = None) -> None:
        """Queue an event_callback body; duplicates (same event_id) are dropped here."""
        event_id = body.get("event_id") if isinstance(body, Mapping) else None
        if isinstance(event_id, str) and event_id and not self.seen.add(event_id):
            self.duplicates += 1
            log.info("event %s delivered again (retry %s): skipped", event_id, retry_num or "-")
            return
        if retry_num not in (None, "", "0"):
            log.info("event %s is Slack's retry %s", event_id, retry_num)
        self._queue.put_nowait(body)

    async def join(self) -> None:
        """Await until every queued event was applied."""
        await self._queue.join()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def stop(self, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._queue.join()
        except TimeoutError:
            log.warning("stopping with %d Slack events not applied", self._queue.qsize())
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    async def _work(self) -> None:
        while True:
            body = await self._queue.get()
            try:
                await self.apply(body)
            except Exception:  # one bad event must not stop the rest
                event_id = body.get("event_id") if isinstance(body, Mapping) else None
                log.exception("event %s could not be applied", event_id)
                if isinstance(event_id, str):
                    self.seen.forget(event_id)  # let Slack's retry try again
            finally:
                self._queue.task_done()

    async def apply(self, body: Mapping[str, Any]) -> bool:
        """Apply one event_callback body; True when the store changed."""
        event_id = body.get("event_id", "?")
        try:
            event = body.get("event")
            if isinstance(event, Mapping) and event.get("type") == "member_joined_channel":
                self._joined(event)
                return False
            if isinstance(event, Mapping) and event.get("type") == "channel_rename":
                self._renamed(event)
                return False
            if isinstance(event, Mapping) and event.get("type") == "user_change":
                self._user_changed(event)
                return False
            core = translate(event)  # type: ignore[arg-type]  # checked inside
        except MalformedEvent as exc:
            self.malformed += 1
            log.warning("event %s skipped: malformed (%s)", event_id, exc)
            return False
        if core is None:
            return False
        user = user_of(core)
        if user is not None and self.bot_user_id and user.id == self.bot_user_id:
            return False
        core = await self._named(core)
        assert self.service is not None, "start() binds the service first"
        return await self.service.on_event(core)

    async def _named(self, core: PlatformEvent) -> PlatformEvent:
        """Fill in the names Slack leaves out: the channel's (plans may use it) and the user's."""
        channel = await self.directory.channel(core.channel.id)
        user = user_of(core)
        if user is None:
            return dataclasses.replace(core, channel=channel)
        named = await self.directory.user(user.id)
        return dataclasses.replace(core, channel=channel, user=named)  # type: ignore[call-arg]

    def _joined(self, event: Mapping[str, Any]) -> None:
        channel = text_field(event, "channel")
        user = text_field(event, "user")
        self.joins[channel] += 1
        log.info("%s joined %s", user, channel)

    def _user_changed(self, event: Mapping[str, Any]) -> None:
        user = event.get("user")
        if not isinstance(user, Mapping) or not isinstance(user.get("id"), str):
            raise MalformedEvent("user_change without a user object")
        if not isinstance(user.get("profile") or {}, Mapping):
            raise MalformedEvent("user_change with a profile that is not an object")
        self.directory.remember_user(user)

    def _renamed(self, event: Mapping[str, Any]) -> None:
        channel = event.get("channel")
        if not isinstance(channel, Mapping):
            raise MalformedEvent("channel_rename without a channel object")
        self.directory.remember_channel(text_field(channel, "id"), text_field(channel, "name"))
