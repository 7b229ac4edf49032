"""The engine's agenda (bot/core/agenda.py): between full passes a tick reads only the runs
that are due or that this process changed, and yet misses nothing: another process's change
is seen at the next full pass, this process's commands at the next tick."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.agenda import FULL_PASS
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.store import Store
from tests.conftest import T0
from tests.fakes.port import FakePort
from tests.support import make_plan


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Counting:
    """Counts the store's full reads of the open runs."""

    def __init__(self, store: Store) -> None:
        self.full_reads = 0
        real = store.open_run_versions

        async def open_run_versions():  # type: ignore[no-untyped-def]
            self.full_reads += 1
            return await real()

        store.open_run_versions = open_run_versions  # type: ignore[method-assign]


async def test_a_tick_between_full_passes_reads_only_due_runs(store: Store) -> None:
    clock = SimClock(at(5) - FULL_PASS / 2)
    port = FakePort()
    engine = Engine(make_plan(), store, lambda _: port, clock)
    await engine.start()
    counting = Counting(store)
    assert await engine.tick() == at(5)  # full pass: the run is started, Q1 is next
    assert counting.full_reads == 1
    clock.set(at(5))
    wake = await engine.tick()  # within FULL_PASS of the last full pass: Q1 only
    assert counting.full_reads == 1
    assert port.questions() == ["Q1"]
    assert wake is not None and wake > at(5)
    clock.set(at(5) + FULL_PASS)
    await engine.tick()
    assert counting.full_reads == 2  # and a full pass again after FULL_PASS


async def test_a_run_changed_by_another_process_is_seen_at_the_next_full_pass(
    store: Store,
) -> None:
    clock = SimClock(at(6))
    ours, theirs = FakePort(), FakePort()
    engine = Engine(make_plan(), store, lambda _: ours, clock)
    other = Engine(make_plan(), store, lambda _: theirs, clock)
    await engine.start()
    await engine.tick()  # starts the run and posts Q1
    assert ours.questions() == ["Q1"]
    run = (await store.runs_for_chat("tea"))[0]
    assert await other.pause(run, clock.now())  # another process pauses the chat
    clock.set(at(20))  # Q2's time: our agenda still expects it
    await engine.tick()
    assert ours.questions() == ["Q1"]  # re-read before acting: paused, nothing posted
    run = (await store.runs_for_chat("tea"))[0]
    await other.resume(run, clock.now())  # resumed elsewhere: Q2 is now due 14 min later
    clock.set(at(20) + FULL_PASS)
    wake = await engine.tick()  # the full pass sees the new version and the new times
    assert wake == at(34)
    clock.set(at(34))
    await engine.tick()
    assert ours.questions() == ["Q1", "Q2"]


async def test_a_command_in_this_process_is_seen_by_the_very_next_tick(store: Store) -> None:
    clock = SimClock(at(6))
    port = FakePort()
    engine = Engine(make_plan(), store, lambda _: port, clock)
    await engine.start()
    await engine.tick()
    run = (await store.runs_for_chat("tea"))[0]
    clock.set(at(6.5))
    assert await engine.extend(run, timedelta(minutes=30)) is not None
    assert await engine.tick() == at(20)  # Q2 still next; the run is re-read, not skipped
    run = (await store.runs_for_chat("tea"))[0]
    assert run.end_at == at(90)
    assert await engine.pause(run, clock.now())
    assert await engine.tick() is None  # paused: nothing falls due by the clock
