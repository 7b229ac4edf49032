"""An async chat of five days on several engines sharing one database (SQLite and
PostgreSQL), ticking at the same instants as separate processes would: each question, each
closing note and the recap go out exactly once, and a worker dying midway changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.clock import SimClock
from tests.core.async_support import async_plan, day
from tests.durability.cluster import Cluster
from tests.support import message


@pytest.fixture
async def cluster(db_url: str) -> AsyncIterator[Cluster]:
    made = Cluster(db_url, async_plan(threads="none"), SimClock(day(-0.1)))
    yield made
    await made.close()


async def test_three_workers_open_and_close_each_question_once(cluster: Cluster) -> None:
    for name in ("a", "b", "c"):
        await cluster.add(name)
    await cluster.run_until(day(0.5))
    assert await cluster.alive[1].service.on_event(message("Curiosity", day(0.5)))
    await cluster.run_until(day(2.5))
    cluster.workers[0].alive = False  # a deploy takes one process away in the middle
    await cluster.run_until(day(5.1))
    assert cluster.kinds() == sorted(["intro", "recap"] + ["question"] * 3 + ["close"] * 3)
    run = (await cluster.workers[1].store.all_runs())[0]
    assert run.state == "summarised"
    notes = sorted(s.message.text for _, s in cluster.sent() if s.message.kind == "close")
    assert notes[0] == "Q1 is closed: 1 answer from 1 person. Thank you!"


async def test_three_workers_send_each_reminder_and_digest_once(db_url: str) -> None:
    extra = (
        '    reminders: {before_close: 12h, max_per_person: 2, quiet_hours: "21:00-08:00"}\n'
        '    digest: {at: "17:00"}\n'
    )
    cluster = Cluster(db_url, async_plan(threads="none", extra=extra), SimClock(day(-0.1)))
    try:
        for name in ("a", "b", "c"):
            await cluster.add(name)
        await cluster.run_until(day(0.1))
        for i, user in enumerate(("alice", "bob")):
            service = cluster.alive[i].service
            assert await service.on_event(message(f"Hello from {user}", day(0.1), user=user))
        await cluster.run_until(day(2.6))  # Wed 02's digest, Fri 04's reminders
        cluster.workers[0].alive = False
        assert await cluster.alive[0].service.on_event(message("A3 tea", day(2.7), user="bob"))
        await cluster.run_until(day(5.1))
        reminders = sorted(
            (s.where, s.message.question_id)
            for _, s in cluster.sent()
            if s.message.kind == "reminder"
        )
        assert reminders == [("@alice", "Q2"), ("@alice", "Q3"), ("@bob", "Q2")]
        assert cluster.kinds().count("digest") == 2  # Wed 02 and Sat 05 (bob's A3)
    finally:
        await cluster.close()
