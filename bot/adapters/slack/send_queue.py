"""Per-channel send queue: Slack's posting limits are kept here, not discovered by failing.

Slack allows about one message per second per channel (short bursts are tolerated, sustained
ones are refused with HTTP 429 and a ``Retry-After`` header). Each channel gets its own lane:
posts to one channel go out in the order they were asked for, at least ``interval`` seconds
apart (counted from the moment Slack answered the previous one), while other channels proceed
in parallel. A 429 is waited out exactly as long as Slack says, then the same call is retried,
so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from slack_sdk.errors import SlackApiError

log = logging.getLogger("chathost.slack.send")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# Slack: "1 message per second per channel, short bursts allowed".
SLACK_MESSAGE_INTERVAL = 1.0
# How many 429s in a row one call waits out before giving up (the engine retries later).
MAX_RATE_LIMITED = 10


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait, when the error is a 429; else None."""
    response = exc.response
    if getattr(response, "status_code", None) != 429:
        return None
    headers: Mapping[str, str] = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


async def call_with_rate_limit(
    call: Callable[[], Awaitable[T]],
    *,
    sleep: Sleep = asyncio.sleep,
    what: str = "Slack call",
    max_waits: int = MAX_RATE_LIMITED,
) -> T:
    """Run ``call``; on 429 wait ``Retry-After`` seconds and run it again."""
    waits = 0
    while True:
        try:
            return await call()
        except SlackApiError as exc:
            delay = retry_after(exc)
            if delay is None or waits >= max_waits:
                raise
            waits += 1
            log.info("%s rate limited; retrying after %.1fs as Slack asked", what, delay)
            await sleep(delay)


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready_at: float = 0.0


class SendQueue:
    """Orders and paces Web API writes per channel; ``interval`` is configurable for tests."""

    def __init__(
        self,
        *,
        interval: float = SLACK_MESSAGE_INTERVAL,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._lanes: dict[str, _Lane] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def send(
        self, channel_id: str, call: Callable[[], Awaitable[T]], *, what: str = "post"
    ) -> T:
        """Run ``call`` in ``channel_id``'s lane, after the ones queued before it."""
        lane = self._lanes.setdefault(channel_id, _Lane())
        self._in_flight += 1
        self._idle.clear()
        try:
            async with lane.lock:  # asyncio.Lock wakes waiters first-come, first-served
                wait = lane.ready_at - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
                try:
                    return await call_with_rate_limit(
                        call, sleep=self._sleep, what=f"{what} to {channel_id}"
                    )
                finally:
                    lane.ready_at = self._monotonic() + self.interval
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Await the end of every queued send; False if ``timeout`` ran out first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True
