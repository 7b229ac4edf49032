"""The send queue: Telegram's posting limits kept here, not discovered by failing.

Telegram allows a bot about 20 messages a minute in one group and about 30 a second overall;
past that it answers 429 with ``retry_after``. Sends to one chat go out in the order they were
asked for (a lane per chat), each after both windows have room; any call that still meets a
429 (an edit, a limit shared with another process) waits exactly ``retry_after`` and is made
again, so nothing is lost. The clock and the sleep are passed in: tests run the windows on a
simulated clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from telegram.error import RetryAfter

log = logging.getLogger("chathost.telegram.send")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

GROUP_PER_MINUTE = 20
OVERALL_PER_SECOND = 30
# How many 429s in a row one call waits out before giving up (the engine retries later).
MAX_RATE_LIMITED = 10


def retry_after(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (PTB gives an int or a timedelta)."""
    value: int | float | timedelta = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0.0, seconds)


@dataclass
class Window:
    """At most ``limit`` sends in any ``span`` seconds."""

    limit: int
    span: float
    sent: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= self.span:
            self.sent.popleft()
        if len(self.sent) < self.limit:
            return 0.0
        return self.sent[0] + self.span - now

    def take(self, now: float) -> None:
        self.sent.append(now)


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    window: Window | None = None


class SendQueue:
    def __init__(
        self,
        *,
        group_per_minute: int = GROUP_PER_MINUTE,
        overall_per_second: int = OVERALL_PER_SECOND,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        max_waits: int = MAX_RATE_LIMITED,
    ) -> None:
        self.group_per_minute = group_per_minute
        self._overall = Window(overall_per_second, 1.0)
        self._sleep = sleep
        self._monotonic = monotonic
        self.max_waits = max_waits
        self._lanes: dict[str, _Lane] = {}
        self.waited: list[float] = []  # each 429's retry_after, waited out (health, tests)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _lane(self, chat_id: str) -> _Lane:
        lane = self._lanes.get(chat_id)
        if lane is None:
            # Groups have negative ids; a private chat only shares the overall window.
            window = Window(self.group_per_minute, 60.0) if chat_id.startswith("-") else None
            lane = self._lanes[chat_id] = _Lane(window=window)
        return lane

    async def send(
        self,
        chat_id: str,
        call: Callable[[], Awaitable[T]],
        *,
        what: str = "sendMessage",
        counts: bool = True,
    ) -> T:
        """Run ``call`` in ``chat_id``'s lane; ``counts``: a new message (edits and deletes
        are not counted against the message limits, but a 429 on them is waited out)."""
        lane = self._lane(chat_id)
        self._in_flight += 1
        self._idle.clear()
        try:
            async with lane.lock:
                if counts:
                    await self._room(lane)
                return await self._call(call, f"{what} to {chat_id}")
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _room(self, lane: _Lane) -> None:
        while True:
            now = self._monotonic()
            windows = [w for w in (lane.window, self._overall) if w is not None]
            wait = max(w.wait(now) for w in windows)
            if wait <= 0:
                for w in windows:
                    w.take(now)
                return
            await self._sleep(wait)

    async def _call(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        waits = 0
        while True:
            try:
                return await call()
            except RetryAfter as exc:
                if waits >= self.max_waits:
                    raise
                waits += 1
                delay = retry_after(exc)
                self.waited.append(delay)
                log.info("%s rate limited; retrying after %.1fs as Telegram asked", what, delay)
                await self._sleep(delay)

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Await the end of every queued send; False if ``timeout`` ran out first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
