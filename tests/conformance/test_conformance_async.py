"""An async chat on every platform: questions open for days and several at once, unlabelled
answers going to the latest question still open, a closing note in each question's thread,
/chatstatus listing the open questions, and the recap when the last one closes."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.core.reminders import after_quiet_hours
from tests.conformance.world import DAY, START, World


async def test_an_async_chat_with_several_questions_open(async_world: World) -> None:
    world = async_world
    await world.command("kate", "startchat")
    await world.at(0)
    assert world.questions() == ["Q1"]  # Q1 opens at the start
    await world.at(60)
    await world.user_says("alice", "Curiosity, mostly")  # only Q1 is open
    await world.at(1.5 * DAY)
    assert world.questions() == ["Q1", "Q2"]
    await world.user_says("bob", "Finding the hours")  # Q1 and Q2 are open: Q2 is the latest
    await world.user_says("alice", "A1 my friends")  # a label names its question
    status = await world.command("alice", "chatstatus")
    assert "Q1 open until Thu 03 Dec 19:20 UTC" in status.text
    assert "Q2 open until Fri 04 Dec 19:20 UTC" in status.text
    await world.at(2.5 * DAY)  # Q1 closed at 2d, with its note; Q3 opened
    assert world.questions() == ["Q1", "Q2", "Q3"]
    await world.user_says("alice", "Green tea next")  # Q3, never the closed Q1
    await world.user_says("bob", "A1 a very late thought")  # within Q1's late window
    await world.at(5 * DAY + 1)  # Q2 closed at 3d; Q3 at 5d: the end, then the recap

    stored = await world.stored_run()
    assert stored.run.state == "summarised"
    attributed = {m.text: (m.question_id, m.reason) for m in stored.messages}
    assert attributed == {
        "Curiosity, mostly": ("Q1", "open"),
        "Finding the hours": ("Q2", "open"),
        "A1 my friends": ("Q1", "label"),
        "Green tea next": ("Q3", "open"),
        "A1 a very late thought": ("Q1", "label"),
    }
    notes = {p.key: p for p in stored.posts if p.kind == "close"}
    assert sorted(notes) == ["close:Q1", "close:Q2", "close:Q3"]
    assert all(note.message_id is not None for note in notes.values())  # each landed, once
    texts = [p.text for p in world.posts()]
    # The notes count the answers by each close (bob's late A1 came after); a platform's
    # channel shows them where its threads are replies (Telegram, the console), not where
    # threads are apart (Slack, Discord).
    shown = [t.strip() for t in texts if " is closed: " in t]
    notes_said = [
        "Q1 is closed: 2 answers from 1 person. Thank you!",
        "Q2 is closed: 1 answer from 1 person. Thank you!",
        "Q3 is closed: 1 answer from 1 person. Thank you!",
    ]
    assert shown == notes_said if world.threads == "none" else shown in ([], notes_said)
    assert texts[-2].startswith("Thanks all!") and texts[-1].startswith("Recap: Tea Chat")
    assert stored.recap.stats.answers_per_question == {"Q1": 3, "Q2": 1, "Q3": 1}


async def test_reminders_in_each_persons_own_hours_and_a_daily_digest(async_world: World) -> None:
    world = async_world
    await world.command("kate", "startchat")
    await world.at(60)
    await world.user_says("alice", "Curiosity, mostly")
    await world.user_says("bob", "The people")
    await world.at(DAY - 140)  # Wed 02 17:00 UTC: the digest
    [digest] = [p.text for p in world.posts() if "Today in Tea Chat:" in p.text]
    assert "Q1: 2 answers new" in digest and "Joined: " in digest
    await world.at(2 * DAY - 140)  # Thu 03 17:00: nothing new, so no digest
    assert len([p for p in world.posts() if "Today in" in p.text]) == 1

    # Q2 closes Fri 04 19:20 UTC: reminders 12h before, 07:20 UTC, unless that is within
    # 21:00-08:00 where the person is: then at 08:00 there.
    base = START + timedelta(days=3, hours=-12)
    quiet = (time(21), time(8))
    expected = {
        user: after_quiet_hours(base, ZoneInfo(world.zones.get(user, "UTC")), quiet)
        for user in ("alice", "bob")
    }
    for when in sorted(set(expected.values())):
        await world.at((when - START).total_seconds() / 60)
    stored = await world.store.nudges((await world.stored_run()).run.id or 0)
    sent = {n.user_id: n.sent_at for n in stored if n.question_id == "Q2"}
    assert sent == {world.user_id(u): t for u, t in expected.items()}
    assert any("Q2 of Tea Chat closes" in dm for dm in world.dms("alice"))
    assert world.dms("kate") == []  # never the hosts


async def test_ask_in_an_async_chat_opens_an_extra_question_until_the_end(
    async_world: World,
) -> None:
    world = async_world
    await world.command("kate", "startchat")
    await world.at(60)
    asked = await world.command("kate", "ask", "Which book changed your mind?")
    assert asked.text == "Posted X1."
    assert world.questions() == ["Q1", "X1"]
    await world.user_says("alice", "Thinking, Fast and Slow")  # X1: the latest question open
    status = await world.command("alice", "chatstatus")
    assert "Q1 open until Thu 03 Dec 19:20 UTC" in status.text
    assert "X1 open until Sun 06 Dec 19:20 UTC" in status.text  # open until the chat ends
    await world.at(1.5 * DAY)
    assert world.questions() == ["Q1", "X1", "Q2"]  # the plan's Q2 still opens on time
    await world.user_says("bob", "Finding the hours")  # Q2 is the latest open now
    await world.user_says("bob", "X1 The Mythical Man-Month")  # a label names X1
    await world.at(2.5 * DAY)
    assert world.questions() == ["Q1", "X1", "Q2", "Q3"]
    await world.at(5 * DAY + 1)  # X1 and Q3 close at the end, each with its note

    stored = await world.stored_run()
    assert stored.run.state == "summarised"
    attributed = {m.text: m.question_id for m in stored.messages}
    assert attributed == {
        "Thinking, Fast and Slow": "X1",
        "Finding the hours": "Q2",
        "X1 The Mythical Man-Month": "X1",
    }
    notes = sorted(p.key for p in stored.posts if p.kind == "close")
    assert notes == ["close:Q1", "close:Q2", "close:Q3", "close:X1"]
    assert stored.recap.stats.answers_per_question == {"Q1": 0, "X1": 2, "Q2": 1, "Q3": 0}
