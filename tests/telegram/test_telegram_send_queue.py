"""The send queue keeps to Telegram's limits on a simulated clock: 20 messages a minute in
one group, 30 a second overall, and a 429 waited out for exactly its retry_after."""

from __future__ import annotations

import asyncio

from telegram.error import RetryAfter

from bot.adapters.telegram.send_queue import SendQueue


class SimTime:
    """A monotonic clock that only moves when the queue sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_group_gets_at_most_twenty_messages_a_minute_in_order() -> None:
    time = SimTime()
    queue = SendQueue(sleep=time.sleep, monotonic=time.monotonic)
    sent: list[tuple[int, float]] = []

    async def post(n: int) -> int:
        sent.append((n, time.now))
        return n

    results = await asyncio.gather(*(queue.send("-100", lambda n=n: post(n)) for n in range(45)))
    assert results == list(range(45)) and [n for n, _ in sent] == list(range(45))
    for first, _ in enumerate(sent[:-20]):
        assert sent[first + 20][1] - sent[first][1] >= 60.0  # any 21 span a minute or more


async def test_thirty_a_second_overall_across_chats_and_dms_are_not_group_limited() -> None:
    time = SimTime()
    queue = SendQueue(sleep=time.sleep, monotonic=time.monotonic)
    stamps: list[float] = []

    async def post() -> None:
        stamps.append(time.now)

    await asyncio.gather(*(queue.send(str(1000 + n), post) for n in range(70)))
    assert len(stamps) == 70
    for first in range(len(stamps) - 30):
        assert stamps[first + 30] - stamps[first] >= 1.0
    assert max(stamps) < 60.0  # private chats are not held to 20 a minute


async def test_a_429_is_waited_out_for_its_retry_after_and_the_call_made_again() -> None:
    time = SimTime()
    queue = SendQueue(sleep=time.sleep, monotonic=time.monotonic)
    answers: list[object] = [RetryAfter(7), RetryAfter(3), "sent"]

    async def post() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await queue.send("-100", post) == "sent"
    assert queue.waited == [7.0, 3.0] and time.slept == [7.0, 3.0]
