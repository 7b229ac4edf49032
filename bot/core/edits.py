"""Edits and deletes of stored messages, each applied to the row it names.

A change to a message chathost did not record (everyday talk, another channel) is ignored.
New messages and reactions are not written here: the recorder (bot/core/recorder.py) stores
them by group commit. Edits and deletes are rare and each needs the row as stored (an edit is
re-attributed from it), so they go one at a time.
"""

from __future__ import annotations

from bot.core.events import MessageDeleted, MessageEdited
from bot.core.plan import chat_from_json
from bot.core.routing import edited_question
from bot.core.store import Store

MessageChange = MessageEdited | MessageDeleted


class Edits:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle(self, event: MessageChange) -> int | None:
        """Apply one change; the id of the run it changed, or None."""
        if isinstance(event, MessageEdited):
            return await self.on_edit(event)
        return await self.on_delete(event)

    async def on_edit(self, event: MessageEdited) -> int | None:
        row = await self.store.find_message(event.platform, event.channel.id, event.message_id)
        if row is None or row.deleted_at is not None or row.text == event.text:
            return None
        run = await self.store.get_run(row.run_id)
        chat = chat_from_json(run.plan_json) if run else None
        question, reason = edited_question(
            event.text, chat, row.thread_question, row.fallback_question
        )
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
