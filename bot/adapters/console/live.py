"""The console adapter for ``chathost run``: type ``alice: A1 my answer`` or ``alice: /nextq``."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TextIO

from bot.adapters.console.port import ConsolePort, process_ids
from bot.core.clock import Clock
from bot.core.events import ChannelRef, Command, IncomingMessage, User
from bot.core.service import ChatService

log = logging.getLogger("chathost.console")

END_OF_TERMINAL = "(Ctrl-D: stopping)"
END_OF_INPUT = "(end of input: the chats go on; Ctrl-C stops chathost)"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


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
                self._end_of_input()
                return
            await self.feed(service, line.strip())

    def _end_of_input(self) -> None:
        """Ctrl-D in a terminal means "I am done": chathost stops as for Ctrl-C (finishing
        the posts in flight). Piped or redirected input that runs out leaves the chats going
        (their questions, the recap), and says so: Ctrl-C stops it."""
        if _is_terminal(self._stdin):
            self._port.write(END_OF_TERMINAL)
            signal.raise_signal(signal.SIGINT)
            return
        self._port.write(END_OF_INPUT)

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
