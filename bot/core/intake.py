"""Messages, edits, deletes and reactions from a platform, recorded against their question.

Only messages in a chat's channel while a run is live are recorded (from a little before the
start until the late-answer window after the end): chathost does not archive a channel's
everyday talk.

A reply that arrives while the database is unavailable (a restart, a fail-over) is retried
with back-off for about half a minute rather than dropped; handling an event is idempotent, so
a retry after a commit whose acknowledgement was lost is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.attribution import Context, attribute, find_label
from bot.core.events import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    PlatformEvent,
    ReactionChanged,
)
from bot.core.plan import chat_from_json
from bot.core.run_states import LIVE
from bot.core.run_window import MAX_LATE_WINDOW, accepts, in_channel
from bot.core.store import (
    MessageRow,
    RetryPolicy,
    RunRow,
    Store,
    is_transient,
    retry_transient,
)
from bot.core.store.retry import Sleep

if TYPE_CHECKING:
    from bot.core.ingest import IngestBatcher

log = logging.getLogger("chathost.intake")

# About 38 s of back-off (0.25 s doubling to 5 s): rides out a database restart or fail-over.
DB_OUTAGE_RETRY = RetryPolicy(attempts=12, first_delay=0.25, max_delay=5.0)


class Intake:
    def __init__(
        self,
        store: Store,
        *,
        retry: RetryPolicy = DB_OUTAGE_RETRY,
        sleep: Sleep = asyncio.sleep,
        batcher: IngestBatcher | None = None,
    ) -> None:
        self.store = store
        self.retry = retry
        self.sleep = sleep
        # With a batcher, messages are stored by group commit (bot/core/ingest.py): same
        # attribution and guarantees, one transaction for many messages.
        self.batcher = batcher

    async def handle(self, event: PlatformEvent) -> int | None:
        """Apply one platform event; the id of the run it changed, or None."""
        failed: Exception | None = None
        if self.batcher is not None and isinstance(event, IncomingMessage):
            # Every reply of a busy chat comes this way: its first attempt goes straight to
            # the batcher, and only a failure pays for the retry wrapper (which then carries
            # on from its first retry, so the attempts and waits are the same).
            try:
                return await self.batcher.submit(event)
            except Exception as exc:
                failed = exc
        what = f"recording {type(event).__name__} {event.message_id}"
        try:
            return await retry_transient(
                lambda: self._apply(event),
                what=what,
                policy=self.retry,
                sleep=self.sleep,
                failed=failed,
            )
        except Exception as exc:
            if is_transient(exc):
                log.error("gave up %s: the database stayed unavailable", what)
            raise

    async def _apply(self, event: PlatformEvent) -> int | None:
        if isinstance(event, IncomingMessage):
            if self.batcher is not None:
                return await self.batcher.submit(event)
            stored = await self.on_message(event)
            return stored.run_id if stored else None
        if isinstance(event, MessageEdited):
            return await self.on_edit(event)
        if isinstance(event, MessageDeleted):
            return await self.on_delete(event)
        return await self.on_reaction(event)

    async def run_for(self, platform: str, channel: ChannelRef, at: datetime) -> RunRow | None:
        """The run a message in this channel at this time belongs to, if any."""
        candidates = []
        for run in await self.store.live_runs(at - MAX_LATE_WINDOW):
            if run.platform != platform or not in_channel(run, channel):
                continue
            chat = chat_from_json(run.plan_json)
            if accepts(run, chat, at):
                candidates.append(run)
        # A live run wins over a pre-chat or late one in the same channel.
        candidates.sort(key=lambda r: (r.state not in LIVE, -r.scheduled_start.timestamp()))
        return candidates[0] if candidates else None

    async def on_message(self, event: IncomingMessage) -> MessageRow | None:
        if event.user.is_bot:
            return None
        run = await self.run_for(event.platform, event.channel, event.at)
        if run is None:
            return None
        chat = chat_from_json(run.plan_json)
        thread_question = None
        if event.thread_id and event.thread_id != run.thread_id:
            thread_question = await self.store.question_for_thread(run.id or 0, event.thread_id)
        reply_question = None
        if event.reply_to:
            parent = await self.store.find_message(event.platform, event.channel.id, event.reply_to)
            # A reply to a stored answer inherits its question; a reply to a question's own
            # post (Discord replies, Slack threads) belongs to that question.
            reply_question = (
                parent.question_id
                if parent
                else await self.store.question_for_thread(run.id or 0, event.reply_to)
            )
        ctx = Context(
            question_ids=chat.question_ids,
            thread_question=thread_question,
            reply_question=reply_question,
            open_question=run.current_question,
            ended=run.state not in LIVE and run.started_at is not None,
        )
        result = attribute(event.text, ctx)
        fallback = attribute("", ctx)
        user = event.user
        is_host = chat.hosted_by(user)
        row = MessageRow(
            run_id=run.id or 0,
            platform=event.platform,
            channel_id=event.channel.id,
            platform_message_id=event.message_id,
            user_id=event.user.id,
            user_name=event.user.label,
            text=event.text,
            kind="host" if is_host else "answer",
            question_id=result.question_id,
            reason=result.reason,
            fallback_question=fallback.question_id,
            thread_question=thread_question,
            thread_id=event.thread_id,
            reply_to=event.reply_to,
            created_at=event.at,
            received_at=event.at,
        )
        stored = await self.store.add_message(row, is_host=is_host)
        if stored is None:
            log.debug("duplicate delivery of message %s ignored", event.message_id)
        return stored

    async def on_edit(self, event: MessageEdited) -> int | None:
        row = await self.store.find_message(event.platform, event.channel.id, event.message_id)
        if row is None or row.deleted_at is not None or row.text == event.text:
            return None
        run = await self.store.get_run(row.run_id)
        chat = chat_from_json(run.plan_json) if run else None
        question, reason = row.thread_question, "thread"
        if question is None:
            label = find_label(event.text, chat.question_ids) if chat else None
            question, reason = (label, "label") if label else (row.fallback_question, "open")
            if label is None and row.fallback_question is None:
                reason = "pre-chat"
        await self.store.update_message(
            row.id or 0,
            text=event.text,
            original_text=row.original_text or row.text,
            question_id=question,
            reason=reason,
            edited_at=event.at,
            edit_count=row.edit_count + 1,
        )
        return row.run_id

    async def on_delete(self, event: MessageDeleted) -> int | None:
        row = await self.store.find_message(event.platform, event.channel.id, event.message_id)
        if row is None or row.deleted_at is not None:
            return None
        await self.store.update_message(row.id or 0, deleted_at=event.at)
        return row.run_id

    async def on_reaction(self, event: ReactionChanged) -> int | None:
        row = await self.store.find_message(event.platform, event.channel.id, event.message_id)
        if row is None or row.id is None:
            return None
        if event.added:
            changed = await self.store.add_reaction(
                row.id, event.user.id, event.user.label, event.emoji, event.at
            )
        else:
            changed = await self.store.remove_reaction(row.id, event.user.id, event.emoji)
        return row.run_id if changed else None
