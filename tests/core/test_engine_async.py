"""An async chat in the engine: several questions open at once, each closing with a note in
its thread, unlabelled answers going to the latest question still open, late answers, the
recap when the last question closes, /chatstatus, and a restart in the middle of the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import ChannelRef, Command, User
from bot.core.service import ChatService
from bot.core.store import Store
from tests.core.async_support import async_plan, day
from tests.core.test_engine import Harness
from tests.support import message

CHANNEL = ChannelRef("teachat", "teachat")


@pytest.fixture
async def h(store: Store, clock: SimClock) -> Harness:
    return await Harness(store, clock, async_plan()).start()


async def say(h: Harness, text: str, days: float, user: str = "alice", **kw: object) -> None:
    await h.run_until(day(days))
    assert await h.service.on_event(message(text, day(days), user=user, **kw))


async def test_questions_open_and_close_on_their_own_windows(h: Harness) -> None:
    await h.run_until(day(5) + timedelta(minutes=1))
    times = {p.key: p.posted_at for p in await h.store.posts((await h.run()).id)}
    assert times["question:Q1"] == day(0)
    assert times["question:Q2"] == day(1)
    assert times["question:Q3"] == day(2)
    assert times["close:Q1"] == day(2)
    assert times["close:Q2"] == day(3)
    assert times["close:Q3"] == day(5)
    assert times["recap"] == day(5)  # the last question closed: the recap
    kinds = h.port.kinds()
    assert kinds.count("close") == 3  # each note once
    assert kinds[-1] == "recap"
    run = await h.run()
    assert (run.state, run.end_at) == ("summarised", day(5))


async def test_a_closing_note_goes_into_its_question_thread_and_counts_answers(
    h: Harness,
) -> None:
    await h.run_until(day(0.1))
    q1 = h.port.ref_of("Q1")
    await say(h, "Tea with my team", 0.2, thread_id=q1.thread_id)
    await say(h, "A1 a friend", 0.3, user="bob")
    await say(h, "A1 same as bob", 0.4, user="bob")
    await h.run_until(day(2.01))
    [note] = [s for s in h.port.sent if s.message.kind == "close"]
    assert note.thread_id == q1.thread_id
    assert note.message.text == "Q1 is closed: 3 answers from 2 people. Thank you!"


async def test_unlabelled_answers_go_to_the_latest_open_question_never_a_closed_one(
    h: Harness,
) -> None:
    await say(h, "Curiosity", 0.5)  # only Q1 is open
    await say(h, "The hours", 1.5)  # Q1 and Q2 are open: Q2 opened last
    await say(h, "A1 and my manager", 1.6)  # a label still wins
    await say(h, "Trying green tea", 2.5)  # Q1 closed at 2d; Q3 opened then
    await say(h, "Still on the hours", 3.5, user="bob")  # Q2 closed at 3d: Q3
    q2 = h.port.ref_of("Q2")
    await say(h, "Reply in Q2's thread", 3.6, user="carol", thread_id=q2.thread_id)  # late
    await say(h, "A1 very late", 3.7, user="dan")  # Q1 closed 1.7 days ago: past late_window
    await h.run_until(day(5.1))
    stored = {
        m.text: (m.question_id, m.reason) for m in await h.store.run_messages((await h.run()).id)
    }
    assert stored == {
        "Curiosity": ("Q1", "open"),
        "The hours": ("Q2", "open"),
        "A1 and my manager": ("Q1", "label"),
        "Trying green tea": ("Q3", "open"),
        "Still on the hours": ("Q3", "open"),
        "Reply in Q2's thread": ("Q2", "thread"),  # within Q2's late window
        "A1 very late": (None, "closed"),
    }
    recap = await h.recap()
    assert recap.stats.answers_per_question == {"Q1": 2, "Q2": 2, "Q3": 2}


async def test_a_reply_to_an_answer_inherits_its_question(h: Harness) -> None:
    await say(h, "A1 curiosity", 1.2, message_id="m1")
    await say(h, "Same here!", 1.3, user="bob", reply_to="m1")  # Q2 is the latest open
    stored = {m.text: m.question_id for m in await h.store.run_messages((await h.run()).id)}
    assert stored == {"A1 curiosity": "Q1", "Same here!": "Q1"}


async def test_chatstatus_lists_every_open_question_and_when_it_closes(h: Harness) -> None:
    await h.run_until(day(1.5))
    reply = await h.service.on_command(
        Command("console", CHANNEL, User("alice", "alice"), "chatstatus", h.clock.now())
    )
    assert "Q1 open until Thu 03 Dec 19:30 UTC" in reply.text
    assert "Q2 open until Fri 04 Dec 19:30 UTC" in reply.text
    assert [(d.question_id, d.closes) for d in reply.deadlines] == [
        ("Q1", day(2)),
        ("Q2", day(3)),
    ]


async def test_a_restart_in_the_middle_of_a_five_day_chat_posts_nothing_twice(
    store: Store, clock: SimClock
) -> None:
    first = await Harness(store, clock, async_plan()).start()
    await first.run_until(day(2.5))
    assert first.port.kinds().count("close") == 1
    # The process dies; a new one (new engine, new port) picks the chat up from the store.
    second = await Harness(store, clock, async_plan()).start()
    await second.run_until(day(5.1))
    assert second.port.kinds() == ["close", "close", "recap"]  # Q2 and Q3, then the recap
    keys = [p.key for p in await store.posts((await second.run()).id)]
    assert len(keys) == len(set(keys))


async def test_two_engines_on_one_store_post_each_close_once(store: Store, clock: SimClock) -> None:
    one = await Harness(store, clock, async_plan()).start()
    other = Engine(async_plan(), store, lambda _: one.port, clock, worker_id="other")
    ChatService(other)
    await other.start()
    for when in (day(0), day(1), day(2), day(3), day(5)):
        clock.set(when)
        await one.engine.tick()
        await other.tick()
    assert one.port.kinds().count("close") == 3
    assert one.port.kinds().count("question") == 3
