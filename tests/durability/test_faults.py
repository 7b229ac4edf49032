"""Faults: platform errors (5xx, 429, timeouts) are retried with back-off and a post that keeps
failing is reported to the hosts; a database that is briefly unavailable (a real PostgreSQL
stopped and started, a locked SQLite file, injected errors) delays replies but loses none."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.core.clock import SimClock
from bot.core.engine import MAX_ATTEMPTS, NUDGE_ATTEMPTS, RETRY_BASE
from bot.core.events import User
from bot.core.ports import Outgoing, PortError, PostedRef
from bot.core.snapshot import load_run_view
from bot.core.store import RetryPolicy, Store, is_transient, open_store, retry_transient
from bot.scheduling import JOB_ID, Waker
from tests.core.test_engine import Harness, at
from tests.durability.outage import PausablePostgres
from tests.fakes.port import FakePort
from tests.pg_fixtures import missing_postgres
from tests.pg_server import PostgresNotFoundError
from tests.support import message

FAST = RetryPolicy(attempts=60, first_delay=0.02, max_delay=0.1)


@pytest.fixture
async def h(store: Store, clock: SimClock) -> Harness:
    return await Harness(store, clock).start()


async def post_of(h: Harness, key: str):
    run = await h.run()
    return next(p for p in await h.store.posts(run.id or 0) if p.key == key)


# platform errors


@pytest.mark.parametrize(
    "error",
    [
        PortError("chat.postMessage: HTTP 503 Service Unavailable", kind="5xx"),
        PortError("ratelimited: HTTP 429, Retry-After 30", kind="429"),
        TimeoutError("read timed out"),  # an adapter that let a raw timeout through
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=["5xx", "429", "timeout", "reset"],
)
async def test_platform_errors_are_retried_with_growing_pauses(
    h: Harness, error: Exception
) -> None:
    await h.run_until(at(4))
    h.port.fail_next(error, times=3)  # type: ignore[arg-type]
    await h.run_until(at(7))
    assert h.port.questions() == ["Q1"]
    q1 = await post_of(h, "question:Q1")
    # 5 s, then 10 s, then 20 s after each failure.
    assert q1.posted_at == at(5) + RETRY_BASE * (1 + 2 + 4)
    assert q1.attempts == 3 and q1.error is None and not q1.gave_up
    assert [s for s in h.port.sent if s.message.kind == "notice"] == []


async def test_a_platform_down_for_six_minutes_delays_the_question_instead_of_losing_it(
    h: Harness,
) -> None:
    await h.run_until(at(4))
    h.port.fail_next(PortError("HTTP 503 Service Unavailable", kind="5xx"), times=9)
    await h.run_until(at(14))
    q1 = await post_of(h, "question:Q1")
    # 5, 10, 20 and 40 s, then a minute apart: back within a minute of the platform.
    assert q1.posted_at == at(5) + RETRY_BASE * (1 + 2 + 4 + 8) + timedelta(minutes=5)
    assert h.port.questions() == ["Q1"] and not q1.gave_up
    assert [s for s in h.port.sent if s.message.kind == "notice"] == []


async def test_a_post_failing_every_time_is_reported_to_the_hosts_once(h: Harness) -> None:
    await h.run_until(at(4))
    h.port.fail_next(PortError("HTTP 502 Bad Gateway"), times=MAX_ATTEMPTS)
    await h.run_until(at(19))
    q1 = await post_of(h, "question:Q1")
    assert (q1.attempts, q1.gave_up, q1.posted_at) == (MAX_ATTEMPTS, True, None)
    notices = [s for s in h.port.sent if s.message.kind == "notice"]
    assert [n.where for n in notices] == ["@kate"]
    assert "question:Q1" in notices[0].message.text and "502" in notices[0].message.text
    assert await h.store.pending_posts() == []  # given up: no endless retries
    view = await load_run_view(h.store, (await h.run()).id or 0)
    q1_seen = next(q for q in view.questions if q.id == "Q1")
    assert q1_seen.skipped and q1_seen.posted_at is None  # the recap does not say it was asked
    await h.run_until(at(21))
    assert h.port.questions() == ["Q2"]  # the chat goes on


async def test_when_the_hosts_cannot_be_told_either_it_is_logged(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await h.run_until(at(4))
    h.port.fail_next(PortError("channel_not_found", permanent=True))
    h.port.fail_next(PortError("HTTP 503"))  # the DM to the host
    with caplog.at_level(logging.WARNING, "chathost.engine"):
        await h.run_until(at(6))
    assert "could not tell host kate either" in caplog.text
    assert h.port.kinds() == ["intro"]


class NudgeFailingPort(FakePort):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.nudge_failures = failures

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        if message.kind == "nudge" and self.nudge_failures > 0:
            self.nudge_failures -= 1
            raise PortError("HTTP 500")
        return await super().send_dm(user, message)


@pytest.mark.parametrize("failures", [2, 10])
async def test_a_failing_nudge_is_retried_a_few_times_then_dropped(
    h: Harness, failures: int
) -> None:
    h.port = NudgeFailingPort(failures)
    await h.say("A1 hello", 6)
    await h.run_until(at(61))
    run = await h.run()
    [nudge] = await h.store.nudges(run.id or 0)
    dms = [s for s in h.port.sent if s.message.kind == "nudge"]
    notices = [s for s in h.port.sent if s.message.kind == "notice"]
    assert notices == []  # a nudge is not worth bothering the hosts
    if failures < NUDGE_ATTEMPTS:
        assert len(dms) == 1 and nudge.delivered_at == at(20) + RETRY_BASE * (1 + 2)
    else:
        assert dms == [] and nudge.gave_up and nudge.attempts == NUDGE_ATTEMPTS
    assert await h.store.pending_nudges(NUDGE_ATTEMPTS) == []


# database faults: classification and retry


def sqlite_error(text: str) -> OperationalError:
    return OperationalError("INSERT INTO messages ...", {}, sqlite3.OperationalError(text))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sqlite_error("database is locked"), True),
        (sqlite_error("no such table: messages"), False),
        (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (TimeoutError(), True),
        (PermissionError(13, "Permission denied"), False),
        (ValueError("refusing to store a naive datetime"), False),
    ],
)
def test_which_database_errors_are_worth_retrying(error: Exception, transient: bool) -> None:
    assert is_transient(error) is transient


async def test_retry_backs_off_and_gives_up_on_lasting_or_real_errors() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise sqlite_error("database is locked")
        return "stored"

    policy = RetryPolicy(attempts=5, first_delay=0.25, max_delay=1.0)
    assert await retry_transient(flaky, what="x", policy=policy, sleep=sleep) == "stored"
    assert delays == [0.25, 0.5, 1.0]

    async def down() -> None:
        raise ConnectionRefusedError(111, "refused")

    delays.clear()
    with pytest.raises(ConnectionRefusedError):
        await retry_transient(down, what="x", policy=policy, sleep=sleep)
    assert len(delays) == policy.attempts - 1

    async def broken() -> None:
        raise sqlite_error("no such table: messages")

    delays.clear()
    with pytest.raises(OperationalError):
        await retry_transient(broken, what="x", policy=policy, sleep=sleep)
    assert delays == []


async def test_a_reply_meeting_a_flaky_database_is_stored_once(h: Harness) -> None:
    await h.run_until(at(6))
    writer = h.service.recorder.writer
    real_write = writer.write
    failures = iter([sqlite_error("database is locked"), ConnectionResetError(104, "reset")])
    delays: list[float] = []

    async def flaky_write(conn, rows, runs, reactions=()):  # type: ignore[no-untyped-def]
        error = next(failures, None)
        if error is not None:
            raise error
        return await real_write(conn, rows, runs, reactions)

    async def sleep(delay: float) -> None:
        delays.append(delay)

    writer.write = flaky_write  # type: ignore[method-assign]
    h.service.sleep = sleep
    assert await h.service.on_event(message("A1 through the storm", at(6)))
    assert delays == [0.25, 0.5]
    assert [m.text for m in await h.store.run_messages((await h.run()).id or 0)] == [
        "A1 through the storm"
    ]


async def test_a_locked_sqlite_file_delays_a_reply_but_does_not_drop_it(
    h: Harness, tmp_path
) -> None:
    await h.run_until(at(6))
    locker = sqlite3.connect(tmp_path / "chathost.db", check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")  # e.g. a backup tool or a second writer holding it
    release = threading.Timer(0.5, locker.commit)
    started = time.monotonic()
    release.start()
    try:
        assert await h.service.on_event(message("A1 waited", at(6)))
    finally:
        release.join()
        locker.close()
    assert time.monotonic() - started >= 0.4
    assert await h.store.count_messages((await h.run()).id or 0) == 1


async def test_a_failed_tick_is_tried_again_soon(h: Harness) -> None:
    waker = Waker(h.engine)

    async def down() -> None:
        raise ConnectionRefusedError(111, "refused")

    h.engine.tick = down  # type: ignore[method-assign,assignment]
    waker.start()
    try:
        await waker.tick()
        job = waker.scheduler.get_job(JOB_ID)
        assert job is not None
        assert job.next_run_time - h.clock.now() <= timedelta(seconds=1)
        assert waker.last_tick is None and not waker.healthy(h.clock.now())
    finally:
        await waker.stop(timeout=1)


# a real PostgreSQL outage


@pytest.fixture
def pausable_pg() -> Iterator[PausablePostgres]:
    try:
        server = PausablePostgres()
    except PostgresNotFoundError as exc:
        missing_postgres(exc)
    with server:
        yield server


@pytest.fixture
async def pg_harness(pausable_pg: PausablePostgres) -> AsyncIterator[Harness]:
    store = await open_store(pausable_pg.url().render_as_string(hide_password=False))
    harness = await Harness(store, SimClock(at(-1))).start()
    harness.service.retry = FAST
    yield harness
    await store.close()


async def test_replies_sent_while_postgresql_is_down_are_stored_when_it_returns(
    pausable_pg: PausablePostgres, pg_harness: Harness
) -> None:
    h = pg_harness
    await h.run_until(at(6))
    retried = asyncio.Event()
    retries = 0

    async def sleep(delay: float) -> None:
        nonlocal retries
        retries += 1
        if retries >= 6:  # every reply has met the outage at least once
            retried.set()
        await asyncio.sleep(delay)

    h.service.sleep = sleep
    pausable_pg.pause()
    replies = [
        asyncio.create_task(h.service.on_event(message(f"A1 reply {i}", at(6), user=f"u{i}")))
        for i in range(3)
    ]
    await asyncio.wait_for(retried.wait(), timeout=20)
    assert not any(r.done() for r in replies)  # waiting, not failed
    h.clock.set(at(20))  # Q2 falls due during the outage: the tick fails, nothing is lost
    with pytest.raises(Exception) as failed:
        await h.engine.tick()
    assert is_transient(failed.value)
    pausable_pg.resume()
    assert await asyncio.wait_for(asyncio.gather(*replies), timeout=20) == [True] * 3
    await h.run_until(at(21))
    assert h.port.questions() == ["Q1", "Q2"]
    run = await h.run()
    texts = sorted(m.text for m in await h.store.run_messages(run.id or 0))
    assert texts == ["A1 reply 0", "A1 reply 1", "A1 reply 2"]


async def test_a_post_that_landed_while_the_database_blinked_is_recorded_not_repeated(
    h: Harness,
) -> None:
    """The platform took the post, then recording it failed: recording is retried (a post
    that landed but is not recorded would be posted again by whoever takes over)."""
    await h.run_until(at(4))
    real = h.store.mark_posted
    failures = iter([ConnectionRefusedError(111, "refused"), sqlite_error("database is locked")])

    async def blinking(*args, **kw):  # type: ignore[no-untyped-def]
        error = next(failures, None)
        if error is not None:
            raise error
        return await real(*args, **kw)

    h.store.mark_posted = blinking  # type: ignore[method-assign]
    await h.run_until(at(5))
    assert h.port.questions() == ["Q1"]
    assert (await post_of(h, "question:Q1")).posted_at == at(5)
    await h.run_until(at(19))  # long past any lease: nobody posts it again
    assert h.port.questions() == ["Q1"]


async def test_one_broken_run_does_not_stop_the_other_chats(
    store: Store, clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A run whose stored plan cannot be read any more (a bad manual edit, a downgrade) is
    logged on every tick; the other chats keep their times."""
    from bot.core.plan import Plan
    from tests.support import make_plan

    tea = make_plan().chats[0]
    other = tea.model_copy(update={"id": "coffee", "title": "Coffee Chat", "channel": "coffee"})
    h = await Harness(store, clock, Plan(timezone="UTC", chats=[tea, other])).start()
    await h.run_until(at(1))
    [coffee] = await store.runs_for_chat("coffee")
    assert await store.update_run(coffee, plan_json='{"not": "a chat"}') is not None
    with caplog.at_level(logging.ERROR, "chathost.engine"):
        await h.run_until(at(21))
    assert [s.where for s in h.port.sent if s.message.kind == "question"] == ["teachat"] * 2
    assert f"run {coffee.id} could not advance" in caplog.text
