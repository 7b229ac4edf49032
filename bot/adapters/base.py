"""What every platform adapter offers the app: a Port for output and a start/stop lifecycle
that feeds inbound events to the ChatService."""

from __future__ import annotations

from typing import Protocol

from bot.core.ports import Port
from bot.core.service import ChatService


class Adapter(Protocol):
    platform: str

    @property
    def port(self) -> Port: ...

    async def start(self, service: ChatService) -> None:
        """Connect and begin delivering events; returns once connected."""
        ...

    async def stop(self) -> None:
        """Finish in-flight posts and disconnect."""
        ...
