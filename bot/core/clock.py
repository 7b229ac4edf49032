"""Time is passed in, never read from a global, so tests and rehearsals control it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine needs of time: the current instant, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, for production."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """A clock that moves only when told to; rehearsals and tests drive it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move forward to ``when``; going back would replay the past and is refused."""
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {when}")
        self._now = when

    def advance(self, delta: timedelta) -> datetime:
        self.set(self._now + delta)
        return self._now


async def sleep_until(clock: Clock, when: datetime, speed: float) -> None:
    """Wait in real time for a simulated span, scaled by ``speed`` (``inf`` = do not wait)."""
    delay = (when - clock.now()).total_seconds() / speed
    if delay > 0:
        await asyncio.sleep(delay)
