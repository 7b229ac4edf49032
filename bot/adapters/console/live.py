"""The console adapter for ``chathost run``: type ``alice: A1 my answer`` or ``alice: /nextq``."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TextIO

from bot.adapters.console.port import ConsolePort, process_ids
from bot.core.clock import Clock
from bot.core.events import ChannelRef, Command, IncomingMessage, User
from bot.core.service import ChatService

log = logging.getLogger("chathost.console")


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self, clock: Clock, channel: str, *, stdin: TextIO | None = None, out: TextIO | None = None
    ) -> None:
        self.clock = clock
        self.channel = ChannelRef(channel.lstrip("#"), channel.lstrip("#"))
        self._port = ConsolePort(clock, out)
        self._stdin = stdin or sys.stdin
        self._task: asyncio.Task[None] | None = None
        self._ids = process_ids("l")

    @property
    def port(self) -> ConsolePort:
        return self._port

    async def start(self, service: ChatService) -> None:
        self._task = asyncio.create_task(self._read(service))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _read(self, service: ChatService) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self._stdin.readline)
            if not line:
                return
            await self.feed(service, line.strip())

    async def feed(self, service: ChatService, line: str) -> None:
        name, sep, text = line.partition(":")
        if not sep or not name.strip() or not text.strip():
            self._port.write("type  name: message   (or  name: /nextq)")
            return
        user = User(id=name.strip(), name=name.strip())
        text = text.strip()
        now = self.clock.now()
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            reply = await service.on_command(
                Command(self.platform, self.channel, user, command, now, args)
            )
            self._port.write(f"(to {user.name}) {reply.text}")
            return
        message = IncomingMessage(
            self.platform, self.channel, next(self._ids), user, text, now
        )
        if not await service.on_event(message):
            self._port.write("(not recorded: no chat is open here)")
