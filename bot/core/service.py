"""The one inbound door of the core: adapters hand every event and command to a ChatService."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core.commands import Commands
from bot.core.engine import Engine
from bot.core.events import Command, CommandReply, PlatformEvent
from bot.core.intake import Intake

log = logging.getLogger("chathost.service")


class ChatService:
    def __init__(self, engine: Engine, *, on_change: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.intake = Intake(engine.store)
        self.commands = Commands(engine)
        self._on_change = on_change or (lambda: None)

    async def on_event(self, event: PlatformEvent) -> bool:
        """Record a platform event; True when it changed what is stored."""
        changed = await self.intake.handle(event)
        if changed:
            self._on_change()
        return changed

    async def on_command(self, command: Command) -> CommandReply:
        reply = await self.commands.handle(command)
        log.info("/%s by %s: %s", command.name, command.user.name, "ok" if reply.ok else "refused")
        self._on_change()
        return reply
