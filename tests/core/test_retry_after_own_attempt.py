"""``retry_transient(failed=...)``: a caller that made the first attempt itself (the batched
message path, bot/core/service.py) gets the same attempts and waits as if the wrapper had made
it: the retries go on from the first one, and a lasting error is raised at once."""

from __future__ import annotations

import pytest

from bot.core.store import RetryPolicy, retry_transient

POLICY = RetryPolicy(attempts=4, first_delay=0.25, max_delay=1.0)


class Flaky:
    """An operation failing ``times`` times with ``error``, then answering "stored"."""

    def __init__(self, times: int, error: Exception) -> None:
        self.left = times
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise self.error
        return "stored"


@pytest.fixture
def waits() -> list[float]:
    return []


async def test_retries_go_on_from_the_first_retry(waits: list[float]) -> None:
    async def sleep(delay: float) -> None:
        waits.append(delay)

    operation = Flaky(1, ConnectionResetError(104, "reset"))
    first = ConnectionRefusedError(111, "refused")
    answer = await retry_transient(
        operation, what="x", policy=POLICY, sleep=sleep, failed=first
    )
    assert answer == "stored"
    assert waits == [0.25, 0.5]  # as if the first of three failed attempts was made here
    assert operation.calls == 2


async def test_the_attempts_in_all_are_those_of_the_policy(waits: list[float]) -> None:
    async def sleep(delay: float) -> None:
        waits.append(delay)

    operation = Flaky(99, ConnectionResetError(104, "reset"))
    with pytest.raises(ConnectionResetError):
        await retry_transient(
            operation,
            what="x",
            policy=POLICY,
            sleep=sleep,
            failed=ConnectionRefusedError(111, "refused"),
        )
    assert operation.calls == POLICY.attempts - 1
    assert waits == POLICY.delays()


async def test_a_lasting_error_of_the_own_attempt_is_raised_at_once(waits: list[float]) -> None:
    async def sleep(delay: float) -> None:
        waits.append(delay)

    operation = Flaky(0, ValueError("unused"))
    with pytest.raises(KeyError):
        await retry_transient(operation, what="x", policy=POLICY, sleep=sleep, failed=KeyError("x"))
    assert operation.calls == 0
    assert waits == []
