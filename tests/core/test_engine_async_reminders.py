"""An async chat's reminders and daily digest in the engine: reminders before each close in
each person's own hours (zones from the port), never to hosts, to people who opted out or for
a question answered, at most max_per_person; the digest at its local time with the most
reacted answer quoted and who joined, nothing on a quiet day; and a restart in the middle of
the five days that neither repeats nor skips any of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import SimClock
from bot.core.events import ChannelRef, Command, ReactionChanged, User
from bot.core.ports import Outgoing, PostedRef
from bot.core.store import Store
from tests.core.async_support import async_plan, day
from tests.core.test_engine import Harness
from tests.fakes.port import FakePort
from tests.support import message

CHANNEL = ChannelRef("teachat", "teachat")
EXTRA = """\
    reminders: {before_close: 12h, max_per_person: 2, quiet_hours: "21:00-08:00", via: dm}
    digest: {at: "17:00"}
"""
ZONES = {"ken": "Asia/Tokyo", "joe": "America/New_York"}  # alice and the rest: the chat's (UTC)


class ZonedPort(FakePort):
    """A port whose platform tells each person's zone, as Slack's users.info does."""

    async def user_zone(self, user: User) -> str | None:
        return ZONES.get(user.id)


def harness(store: Store, clock: SimClock) -> Harness:
    made = Harness(store, clock, async_plan(threads="none", extra=EXTRA))
    made.port = ZonedPort()
    return made


@pytest.fixture
async def h(store: Store, clock: SimClock) -> Harness:
    return await harness(store, clock).start()


async def say(h: Harness, text: str, days: float, user: str = "alice", **kw: object) -> None:
    await h.run_until(day(days))
    assert await h.service.on_event(message(text, day(days), user=user, **kw))


async def reminders(h: Harness) -> list[tuple[str, str | None, datetime]]:
    rows = await h.store.nudges((await h.run()).id)
    return sorted((r.user_id, r.question_id, r.sent_at) for r in rows)


def utc(d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, d, hour, minute, tzinfo=UTC)


async def test_reminders_come_before_close_in_each_persons_own_hours(h: Harness) -> None:
    for user in ("alice", "ken", "joe", "kate", "carol"):  # kate hosts
        await say(h, f"Hello from {user}", 0.1, user=user)  # Q1 is open: all answer it
    await h.service.on_command(
        Command("console", CHANNEL, User("carol", "carol"), "quietchat", day(0.2))
    )
    await say(h, "A3 green tea", 3.0, user="joe")  # joe answers Q3: no reminder for it
    await h.run_until(day(5.1))
    # Q2 closes Fri 04 19:30 UTC, Q3 Sun 06 19:30: reminders 12h before, at 07:30 UTC, which
    # is quiet (21:00-08:00) in UTC (alice: 08:00) and New York (02:30: joe at 08:00 there),
    # not in Tokyo (16:30: ken at once).
    assert await reminders(h) == [
        ("alice", "Q2", utc(4, 8)),
        ("alice", "Q3", utc(6, 8)),
        ("joe", "Q2", utc(4, 13)),
        ("ken", "Q2", utc(4, 7, 30)),
        ("ken", "Q3", utc(6, 7, 30)),
    ]
    [dm] = [s for s in h.port.dms_to("ken") if s.message.question_id == "Q2"]
    assert dm.message.kind == "reminder"
    assert dm.message.text.startswith("Hi ken! Q2 of Slow Tea closes Sat 05 Dec 04:30 JST")
    assert h.port.dms_to("kate") == [] and h.port.dms_to("carol") == []


async def test_at_most_max_per_person(store: Store, clock: SimClock) -> None:
    h = harness(store, clock)
    h.plan = async_plan(
        threads="none", extra=EXTRA.replace("max_per_person: 2", "max_per_person: 1")
    )
    h.engine.plan = h.plan
    await h.start()
    await say(h, "Hello", 0.1, user="ken")
    await h.run_until(day(5.1))
    assert [q for _, q, _ in await reminders(h)] == ["Q2"]


async def test_a_daily_digest_with_the_most_reacted_answer_and_nothing_on_a_quiet_day(
    h: Harness,
) -> None:
    await say(h, "A1 curiosity", 0.1, message_id="m1")
    await say(h, "A1 my team asked", 0.2, user="bob", message_id="m2")
    star = ReactionChanged("console", CHANNEL, "m2", User("carol", "carol"), "star", True, day(0.3))
    assert await h.service.on_event(star)
    # Wed 02 17:00 UTC: the first digest. Nothing is said until Thu 03 20:00: no digest Thu.
    await say(h, "A3 more tea", 2.02, user="carol")
    await h.run_until(day(5.1))
    digests = [s.message.text for s in h.port.sent if s.message.kind == "digest"]
    assert digests == [
        'Today in Slow Tea:\nQ1: 2 answers new (most liked, bob: "A1 my team asked")\n'
        "Joined: alice, bob.",
        "Today in Slow Tea:\nQ3: 1 answer new\nJoined: carol.",
    ]
    keys = [p.key for p in await h.store.posts((await h.run()).id) if p.kind == "digest"]
    assert keys == ["digest:2026-12-02", "digest:2026-12-04"]


async def test_a_restart_in_the_middle_repeats_no_reminder_and_no_digest(
    store: Store, clock: SimClock
) -> None:
    first = await harness(store, clock).start()
    await say(first, "Hello", 0.1, user="ken")
    await say(first, "Hi", 0.15, user="alice")
    await first.run_until(day(2.9))  # past Thu 03's digest and Fri 04's reminders
    second = await harness(store, clock).start()  # a new process on the same database
    await second.run_until(day(5.1))
    sent = [*first.port.sent, *second.port.sent]
    assert sorted(s.message.key for s in sent if s.message.kind == "reminder") == sorted(
        {s.message.key for s in sent if s.message.kind == "reminder"}
    )
    assert len([s for s in sent if s.message.kind == "reminder"]) == 4  # two each
    assert [s.message.kind for s in sent].count("digest") == 1  # Wed 02: the only new answers
    assert [s.message.kind for s in second.port.sent].count("digest") == 0


class SlowPort(FakePort):
    """Posting a closing note takes five minutes of the clock (a slow platform, a busy
    process); the step that posts it read the clock before."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self.clock = clock
        self.digests_at: list[datetime] = []

    async def post(self, channel: str, message: Outgoing, **kw: Any) -> PostedRef:
        if message.kind == "digest":
            self.digests_at.append(self.clock.now())
        posted = await super().post(channel, message, **kw)
        if message.kind == "close":
            self.clock.set(self.clock.now() + timedelta(minutes=5))
        return posted


async def test_a_digest_due_while_a_step_ran_goes_out_at_once(
    store: Store, clock: SimClock
) -> None:
    # Q2 closes Fri 04 19:30 UTC; the digest at 19:31 comes round while its note is posted.
    h = Harness(store, clock, async_plan(threads="none", extra='    digest: {at: "19:31"}\n'))
    h.port = port = SlowPort(clock)
    await h.start()
    await say(h, "A1 curiosity", 0.1)
    await say(h, "A3 more tea", 2.6)
    await h.run_until(day(3.5))
    # Not folded into Sat 05's, the run's next wake.
    assert port.digests_at == [utc(2, 19, 31), utc(4, 19, 35)]
