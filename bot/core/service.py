"""The one inbound door of the core: adapters, the rehearsal and the tests hand every event
and command to a ChatService.

A message or a reaction goes to the recorder (group commit; a batch of one is a batch), an
edit or a delete of a stored message to the edits, a command to the command table. An
event that arrives while the database is unavailable (a restart, a fail-over) is retried with
back-off for about half a minute rather than dropped; recording is idempotent, so a retry
after a commit whose acknowledgement was lost is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bot.core.commands import Commands
from bot.core.edits import Edits, MessageChange
from bot.core.engine import Engine
from bot.core.events import (
    Command,
    CommandReply,
    IncomingMessage,
    PlatformEvent,
    ReactionChanged,
)
from bot.core.recorder import MessageRecorder, Recorded
from bot.core.run_states import RunState
from bot.core.store import RetryPolicy, is_transient, retry_transient
from bot.core.store.retry import Sleep

log = logging.getLogger("chathost.service")

# About 38 s of back-off (0.25 s doubling to 5 s): rides out a database restart or fail-over.
DB_OUTAGE_RETRY = RetryPolicy(attempts=12, first_delay=0.25, max_delay=5.0)

T = TypeVar("T")


class ChatService:
    def __init__(
        self,
        engine: Engine,
        *,
        on_change: Callable[[], None] | None = None,
        retry: RetryPolicy = DB_OUTAGE_RETRY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine = engine
        self.recorder = MessageRecorder(engine.store)
        self.edits = Edits(engine.store)
        self.commands = Commands(engine)
        self.retry = retry
        self.sleep = sleep
        self._on_change = on_change or (lambda: None)

    async def on_event(self, event: PlatformEvent) -> bool:
        """Record a platform event; True when it changed what is stored.

        A change to a run whose recap is already out (a late answer, an edit, a reaction)
        updates the posted recap instead of being lost.
        """
        if isinstance(event, IncomingMessage | ReactionChanged):
            return await self.record(event) is not None
        run_id = await self._retrying(lambda: self.edits.handle(event), event)
        if run_id is None:
            return False
        run = await self.engine.store.get_run(run_id)
        if run is not None and run.state == RunState.SUMMARISED:
            await self.engine.refresh_recap(run_id)
        return True

    async def record(self, event: IncomingMessage | ReactionChanged) -> Recorded | None:
        """Store a message or a reaction; where it went, or None when no run takes it (or a
        duplicate, or a reaction that changes nothing).

        Its first attempt goes straight to the recorder; only a failure pays for the retry
        wrapper. No wake-up of the engine here: a message can only make a nudge fall due
        later, never earlier, so the engine's next wake time stays right.
        """
        try:
            recorded = await self.recorder.submit(event)
        except Exception as exc:
            recorded = await self._retrying(lambda: self.recorder.submit(event), event, exc)
        if (
            recorded is not None
            and self.recorder.states.get(recorded.run_id) == RunState.SUMMARISED
        ):
            # The state was read inside the batch's own transaction: no summary slips in unseen.
            await self.engine.refresh_recap(recorded.run_id)
        return recorded

    async def record_all(
        self, events: Sequence[IncomingMessage | ReactionChanged]
    ) -> list[Recorded | None]:
        """``record`` for many events sent together (a rehearsal's burst): the same outcomes,
        without a task per event. Submitted in order, so a reaction follows its message."""
        futures = [self.recorder.submit(e) for e in events]
        await asyncio.wait(futures)
        outcomes: list[Recorded | None] = []
        for event, future in zip(events, futures, strict=True):
            failed = future.exception()
            if failed is None:
                outcomes.append(future.result())
            else:
                outcomes.append(
                    await self._retrying(lambda e=event: self.recorder.submit(e), event, failed)
                )
        for run_id in sorted({o.run_id for o in outcomes if o is not None}):
            if self.recorder.states.get(run_id) == RunState.SUMMARISED:
                await self.engine.refresh_recap(run_id)
        return outcomes

    async def _retrying(
        self,
        attempt: Callable[[], Awaitable[T]],
        event: PlatformEvent,
        failed: Exception | None = None,
    ) -> T:
        what = f"recording {type(event).__name__} {event.message_id}"
        try:
            return await retry_transient(
                attempt, what=what, policy=self.retry, sleep=self.sleep, failed=failed
            )
        except Exception as exc:
            if is_transient(exc):
                log.error("gave up %s: the database stayed unavailable", what)
            raise

    async def on_command(self, command: Command) -> CommandReply:
        reply = await self.commands.handle(command)
        log.info("/%s by %s: %s", command.name, command.user.name, "ok" if reply.ok else "refused")
        self._on_change()
        return reply


__all__ = ["ChatService", "MessageChange", "Recorded"]
