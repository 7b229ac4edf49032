"""The one inbound door of the core: adapters hand every event and command to a ChatService."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core.commands import Commands
from bot.core.engine import Engine
from bot.core.events import Command, CommandReply, IncomingMessage, PlatformEvent
from bot.core.ingest import IngestBatcher
from bot.core.intake import Intake
from bot.core.run_states import RunState

log = logging.getLogger("chathost.service")


class ChatService:
    def __init__(
        self,
        engine: Engine,
        *,
        on_change: Callable[[], None] | None = None,
        batch: bool = False,
    ) -> None:
        self.engine = engine
        # ``batch``: store messages by group commit (see bot/core/ingest.py), for busy chats.
        batcher = IngestBatcher(engine.store) if batch else None
        self.intake = Intake(engine.store, batcher=batcher)
        self.commands = Commands(engine, self.intake)
        self._on_change = on_change or (lambda: None)

    async def on_event(self, event: PlatformEvent) -> bool:
        """Record a platform event; True when it changed what is stored.

        A change to a run whose recap is already out (a late answer, an edit, a reaction)
        updates the posted recap instead of being lost.
        """
        run_id = await self.intake.handle(event)
        if run_id is None:
            return False
        batcher = self.intake.batcher
        state = None
        if batcher is not None and isinstance(event, IncomingMessage):
            state = batcher.states.get(run_id)  # read after the commit: saves a query
        if state is None:
            run = await self.engine.store.get_run(run_id)
            state = run.state if run is not None else None
        if state == RunState.SUMMARISED:
            await self.engine.refresh_recap(run_id)
        # No wake-up here: a message can only make a nudge fall due later, never earlier, so
        # the engine's next wake time stays right and the message path stays cheap.
        return True

    async def on_command(self, command: Command) -> CommandReply:
        reply = await self.commands.handle(command)
        log.info("/%s by %s: %s", command.name, command.user.name, "ok" if reply.ok else "refused")
        self._on_change()
        return reply
