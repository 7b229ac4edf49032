"""The one delivery posts and nudges share (bot/core/delivery.py), on its own: a parcel that
records what the courier did to it, a recording port and a simulated clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bot.core.clock import SimClock
from bot.core.delivery import (
    CLAIM_LEASE,
    LANDED_SLACK,
    RETRY_BASE,
    Courier,
    Destination,
    ToChannel,
    ToPerson,
)
from bot.core.events import User
from bot.core.ports import Outgoing, PortError, PostedRef
from tests.conftest import T0
from tests.fakes.port import FakePort

ANN = User("ann", "ann")


@dataclass
class Parcel:
    where: Destination = field(default_factory=lambda: ToChannel("teachat"))
    attempts: int = 0
    max_attempts: int = 3
    claimed_at: datetime = T0
    label: str = "question:Q1 of run 1"
    subject: str = "post question:Q1 of run 1"
    sent: list[PostedRef] = field(default_factory=list)
    failed: list[tuple[str, bool, datetime | None]] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    renewals: list[datetime] = field(default_factory=list)
    keep_lease: bool = True
    broken: Exception | None = None

    async def render(self) -> tuple[Outgoing, Destination]:
        if self.broken is not None:
            raise self.broken
        return Outgoing("question", "Q1: Why?", key="tea/1/question:Q1"), self.where

    async def renew(self, until: datetime) -> bool:
        self.renewals.append(until)
        return self.keep_lease

    async def record_sent(self, ref: PostedRef, at: datetime) -> None:
        self.sent.append(ref)

    async def record_failed(self, error: str, *, give_up: bool, retry_at: datetime | None) -> None:
        self.failed.append((error, give_up, retry_at))

    async def give_up(self, error: PortError) -> None:
        self.gave_up.append(str(error))


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def retries() -> list[datetime]:
    return []


@pytest.fixture
def courier(clock: SimClock, retries: list[datetime]) -> Courier:
    return Courier(clock, lease=CLAIM_LEASE, on_retry=retries.append)


async def test_a_parcel_is_sent_and_recorded_once(courier: Courier) -> None:
    port, parcel = FakePort(), Parcel()
    await courier.deliver(port, parcel)
    assert [s.where for s in port.sent] == ["teachat"]
    assert parcel.sent == [port.sent[0].ref] and parcel.failed == []
    assert port.finds == []  # a first attempt asks nothing


async def test_a_dm_goes_to_the_person(courier: Courier) -> None:
    port, parcel = FakePort(), Parcel(where=ToPerson(ANN))
    await courier.deliver(port, parcel)
    assert [s.where for s in port.sent] == ["@ann"]


@pytest.mark.parametrize("where", [ToChannel("teachat"), ToPerson(ANN)])
async def test_a_retry_finds_what_landed_and_does_not_send_it_again(
    courier: Courier, where: Destination
) -> None:
    port, parcel = FakePort(), Parcel(where=where, attempts=1)
    await courier.deliver(port, Parcel(where=where))
    await courier.deliver(port, parcel, recover=True)
    assert len(port.sent) == 1 and port.finds == ["tea/1/question:Q1"]
    assert parcel.sent == [port.sent[0].ref]  # recorded as the post it found


async def test_a_retry_that_cannot_ask_sends_anyway(courier: Courier) -> None:
    port, parcel = FakePort(), Parcel(attempts=1)
    port.find_failures.append(PortError("history is down"))
    await courier.deliver(port, parcel, recover=True)
    assert len(port.sent) == 1 and len(parcel.sent) == 1


async def test_the_platform_is_asked_from_a_little_before_the_claim(courier: Courier) -> None:
    asked: list[datetime] = []

    class Asking(FakePort):
        async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
            asked.append(since)
            return None

    await courier.deliver(Asking(), Parcel(where=ToPerson(ANN)), recover=True)
    assert asked == [T0 - LANDED_SLACK]


async def test_a_failure_backs_off_doubling(
    courier: Courier, retries: list[datetime]
) -> None:
    port, parcel = FakePort(), Parcel(attempts=1)
    port.fail_next(PortError("HTTP 502"))
    await courier.deliver(port, parcel)
    assert parcel.failed == [("HTTP 502", False, T0 + RETRY_BASE * 2)]
    assert retries == [T0 + RETRY_BASE * 2] and parcel.gave_up == [] and parcel.sent == []


@pytest.mark.parametrize(
    ("attempts", "error"),
    [(2, PortError("HTTP 502")), (0, PortError("channel_not_found", permanent=True))],
)
async def test_the_last_attempt_or_a_permanent_error_gives_up(
    courier: Courier, retries: list[datetime], attempts: int, error: PortError
) -> None:
    port, parcel = FakePort(), Parcel(attempts=attempts)
    port.fail_next(error)
    await courier.deliver(port, parcel)
    assert parcel.failed == [(str(error), True, None)]
    assert parcel.gave_up == [str(error)] and retries == []


async def test_an_error_the_adapter_did_not_wrap_is_a_failed_attempt(courier: Courier) -> None:
    parcel = Parcel(broken=TimeoutError("read timed out"))
    await courier.deliver(FakePort(), parcel)
    assert [f[:2] for f in parcel.failed] == [("TimeoutError: read timed out", False)]


async def test_the_lease_is_renewed_while_the_delivery_is_in_flight(clock: SimClock) -> None:
    slept: list[float] = []
    sent = asyncio.Event()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    class Slow(FakePort):
        async def post(self, channel: str, message: Outgoing, **kw: object) -> PostedRef:
            while len(slept) < 3:
                await asyncio.sleep(0)
            sent.set()
            return await super().post(channel, message)

    courier = Courier(clock, lease=timedelta(seconds=15), on_retry=lambda _: None, sleep=sleep)
    parcel = Parcel()
    await courier.deliver(Slow(), parcel)
    assert sent.is_set() and slept[:3] == [5.0, 5.0, 5.0]
    assert parcel.renewals[:2] == [T0 + timedelta(seconds=15)] * 2
