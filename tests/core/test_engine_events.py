"""A run's scheduled event, driven by the engine on a real SQLite store and a simulated clock,
through a port that keeps events the way a guild does (tests/fakes/port.py's FakePort plus an
event calendar). What is checked is what a member sees in the guild's event list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import ChannelRef, Command, User
from bot.core.plan import Plan, parse_plan
from bot.core.ports import EventDetails, EventPort, EventStatus, PortError
from bot.core.recap import headline_text
from bot.core.service import ChatService
from bot.core.snapshot import load_run_view
from bot.core.store import Store
from bot.export.json_export import run_document
from tests.fakes.port import FakePort

# Weekly on Mondays at 19:30 in London; British Summer Time starts on Sunday 2027-03-28, so
# the run of 2027-03-29 starts an hour earlier in UTC than the one before.
PLAN = """
timezone: Europe/London
chats:
  - id: tea
    title: Tea Chat
    tag: "#teachat"
    platform: console
    channel: teachat
    hosts: [kate]
    events: true
    schedule:
      start: "2027-03-22 19:30"
      rrule: FREQ=WEEKLY;BYDAY=MO
      duration: 1h
      skip: {skip}
    announce: [1d]
    questions:
      - {{id: Q1, at: 5m, text: "What brought you here?"}}
      - {{id: Q2, at: 20m, text: "What is hard about it?"}}
"""
WINTER = datetime(2027, 3, 22, 19, 30, tzinfo=UTC)  # 19:30 GMT
SUMMER = datetime(2027, 3, 29, 18, 30, tzinfo=UTC)  # 19:30 BST


def plan(skip: str = "[]") -> Plan:
    return parse_plan(PLAN.format(skip=skip))


@dataclass
class Event:
    details: EventDetails
    status: str = "scheduled"
    interested: int = 0
    saves: int = 1


@dataclass
class EventfulPort(FakePort):
    """FakePort with a guild's event list; ``lose_next_create`` makes a create land but its
    answer fail, as a timeout after Discord accepted it does."""

    events: dict[str, Event] = field(default_factory=dict)
    lose_next_create: bool = False
    fail_saves: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    async def save_event(self, event_id: str | None, details: EventDetails) -> str:
        if self.fail_saves:
            self.fail_saves -= 1
            raise PortError("503 Service Unavailable")
        if event_id is None:
            event_id = f"e{len(self.events) + 1}"
            self.events[event_id] = Event(details)
            if self.lose_next_create:
                self.lose_next_create = False
                raise PortError("the answer was lost")
            return event_id
        event = self.events[event_id]
        event.details, event.saves = details, event.saves + 1
        return event_id

    async def set_event_status(self, event_id: str, status: EventStatus) -> None:
        self.events[event_id].status = status

    async def event_interested(self, event_id: str) -> int | None:
        return self.events[event_id].interested

    async def find_event(self, details: EventDetails) -> str | None:
        return next((i for i, e in self.events.items() if e.details.key == details.key), None)

    def of_run(self, start: datetime) -> list[Event]:
        return [e for e in self.events.values() if e.details.start == start]


async def run_until(engine: Engine, clock: SimClock, when: datetime) -> None:
    for _ in range(500):
        wake = await engine.tick()
        if wake is None or wake > when:
            break
        clock.set(max(wake, clock.now()))
    clock.set(when)
    await engine.tick()


def engine_for(store: Store, clock: SimClock, port: FakePort, the_plan: Plan) -> Engine:
    return Engine(the_plan, store, lambda _: port, clock)


async def test_the_port_with_events_is_an_event_port() -> None:
    assert isinstance(EventfulPort(), EventPort)
    assert not isinstance(FakePort(), EventPort)


async def test_event_made_a_week_ahead_in_utc_across_dst(store: Store) -> None:
    clock = SimClock(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, datetime(2027, 3, 21, 12, 0, tzinfo=UTC))
    (winter,) = port.of_run(WINTER)
    assert winter.details.end == WINTER + timedelta(hours=1)
    assert "Q1: What brought you here?" in winter.details.description
    assert port.of_run(SUMMER) == []  # more than a week away still
    await run_until(engine, clock, SUMMER - timedelta(days=7))
    (summer,) = port.of_run(SUMMER)
    assert (summer.details.start, summer.details.end) == (SUMMER, SUMMER + timedelta(hours=1))
    assert summer.status == "scheduled"
    assert winter.status == "scheduled"  # an hour before its own start
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    assert (winter.status, summer.status) == ("completed", "scheduled")


async def test_active_at_start_completed_at_end_once_each(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(minutes=1))
    assert [e.status for e in port.of_run(WINTER)] == ["scheduled"]
    await run_until(engine, clock, WINTER + timedelta(minutes=1))
    assert [e.status for e in port.of_run(WINTER)] == ["active"]
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    assert port.of_run(WINTER)[0].status == "completed"
    assert port.of_run(WINTER)[0].saves == 1  # nothing changed: never edited


async def test_extendchat_moves_the_events_end(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=1))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER + timedelta(minutes=10))
    reply = await ChatService(engine).on_command(
        Command(
            "console",
            ChannelRef("teachat", "teachat"),
            User("kate", "kate"),
            "extendchat",
            clock.now(),
            "15",
        )
    )
    assert reply.text.startswith("Extended by 15m")
    await engine.tick()
    (event,) = port.of_run(WINTER)
    assert event.details.end == WINTER + timedelta(minutes=75)
    assert event.status == "active"
    await run_until(engine, clock, WINTER + timedelta(minutes=70))
    assert event.status == "active"  # the old end passed; the chat goes on
    await run_until(engine, clock, WINTER + timedelta(minutes=76))
    assert event.status == "completed"


async def test_a_plan_change_edits_the_event(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=3))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(days=2))
    changed = plan().chats[0].model_copy(update={"title": "Tea Time"})
    edited = Plan(timezone=plan().timezone, chats=[changed])
    engine = engine_for(store, clock, port, edited)  # chathost restarted with the new plan
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(days=1))
    (event,) = port.of_run(WINTER)
    assert event.details.title == "Tea Time #teachat"
    assert event.saves == 2


async def test_a_skipped_run_is_cancelled(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=1))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(hours=20))
    assert [e.status for e in port.of_run(WINTER)] == ["scheduled"]
    engine = engine_for(store, clock, port, plan(skip="[2027-03-22]"))
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(hours=19))
    assert [e.status for e in port.of_run(WINTER)] == ["canceled"]


async def test_restart_between_create_and_start_makes_no_second_event(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort()
    first = engine_for(store, clock, port, plan())
    await first.start()
    await run_until(first, clock, WINTER - timedelta(days=1))
    assert len(port.of_run(WINTER)) == 1
    second = engine_for(store, clock, port, plan())  # a new process, same database
    await second.start()
    await run_until(second, clock, WINTER + timedelta(minutes=2))
    (event,) = port.of_run(WINTER)
    assert (event.status, event.saves) == ("active", 1)


async def test_a_lost_create_answer_is_found_not_repeated(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort(lose_next_create=True)
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(days=1))
    (event,) = port.of_run(WINTER)
    assert event.saves == 1
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    assert [e.status for e in port.of_run(WINTER)] == ["completed"]


async def test_a_failed_save_is_retried(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort(fail_saves=2)
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER - timedelta(days=1))
    assert len(port.of_run(WINTER)) == 1


async def test_no_events_without_the_plan_field(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort()
    off = plan().chats[0].model_copy(update={"events": False})
    engine = engine_for(store, clock, port, Plan(timezone=plan().timezone, chats=[off]))
    await engine.start()
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    assert port.events == {}


async def test_the_recap_headline_counts_the_interested(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = EventfulPort()
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER + timedelta(minutes=30))
    port.of_run(WINTER)[0].interested = 23
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    (run,) = [r for r in await store.runs_for_chat("tea") if r.scheduled_start == WINTER]
    recap = await engine.recap(run.id or 0)
    assert headline_text(recap).startswith("23 interested, 0 participants")
    (posted,) = [s.message for s in port.sent if s.message.kind == "recap"]
    assert "23 interested" in posted.text
    view = await load_run_view(store, run.id or 0)
    assert run_document(plan().chats[0], view, recap)["stats"]["interested"] == 23


async def test_no_event_no_interested_figure(store: Store) -> None:
    clock = SimClock(WINTER - timedelta(days=2))
    port = FakePort()  # a platform without events
    engine = engine_for(store, clock, port, plan())
    await engine.start()
    await run_until(engine, clock, WINTER + timedelta(minutes=61))
    (run,) = [r for r in await store.runs_for_chat("tea") if r.scheduled_start == WINTER]
    recap = await engine.recap(run.id or 0)
    assert "interested" not in headline_text(recap)
    view = await load_run_view(store, run.id or 0)
    assert run_document(plan().chats[0], view, recap)["stats"]["interested"] is None
