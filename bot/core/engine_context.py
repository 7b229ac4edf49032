"""What every part of the engine shares: the store, the clock, the ports, this process's name
in delivery leases, and the chat a run follows.

The engine's parts (engine_steps, engine_posts, engine_nudges) each get this one object, so a
port swapped on the engine (a test's fresh port, a reconnected client) is the port they all use.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core import wording
from bot.core.clock import Clock
from bot.core.delivery import CLAIM_LEASE
from bot.core.plan import Chat, chat_from_json
from bot.core.ports import Attachment, Port
from bot.core.recap import Recap
from bot.core.store import RunRow, Store

PortFor = Callable[[str], Port]
# Pictures to attach to a recap: bot/export draws the word cloud (the core draws nothing).
Illustrate = Callable[[Recap], Sequence[Attachment]]


class EngineError(Exception):
    """A request the engine cannot carry out; the message is meant for the user."""


def default_worker_id() -> str:
    """Names this process in delivery leases (and logs): host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class EngineContext:
    """Mutable on purpose: ``port_for`` and ``illustrate`` may be replaced on a running engine,
    and ``stopping`` is set by SIGTERM; every part reads them here."""

    store: Store
    port_for: PortFor
    clock: Clock
    worker_id: str = field(default_factory=default_worker_id)
    claim_lease: timedelta = CLAIM_LEASE
    # The archive's address: recaps then link to the run's page.
    public_url: str | None = None
    # Pictures for a recap (the word cloud), drawn outside the core (bot/export).
    illustrate: Illustrate | None = None
    # Finish the delivery in flight but start no new step.
    stopping: bool = False
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    def port(self, chat: Chat) -> Port:
        return self.port_for(chat.platform)

    def run_lock(self, run_id: int) -> asyncio.Lock:
        """Serialises the work on one run within this process (the store's CAS covers others)."""
        return self._locks.setdefault(run_id, asyncio.Lock())


def chat_of(run: RunRow) -> Chat:
    """The plan as it stood when the run was created (edits to chats.yaml apply to later
    runs, so question numbers never shift under a running chat), posting where the run's
    first post landed: by the channel's id, which a rename mid-chat leaves alone."""
    chat = chat_from_json(run.plan_json)
    if run.channel_id and run.channel_id != chat.channel:
        return chat.model_copy(update={"channel": run.channel_id})
    return chat


def did_not_settle(run_id: int) -> EngineError:
    return EngineError(wording.did_not_settle(run_id))


def changed_meanwhile() -> EngineError:
    return EngineError(wording.changed_meanwhile())
