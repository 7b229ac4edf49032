"""Spontaneous chats on every platform: a host opens one with ``/startchat TITLE #tag`` where
no plan entry is named, types the questions with ``/ask`` as the event goes, people answer by
label, and ``/endchat`` brings the same recap as a planned chat. Refusals: not allowed, outside
``adhoc.channels``, and a channel whose chat is running. ``/ask`` in a planned chat adds an
extra question (X1); a restart mid-chat resumes a spontaneous chat.

The world's plan schedules its chat at minute 10 in the same channel; these scenarios finish
before it would start."""

from __future__ import annotations

from bot.core.plan import AdHoc
from bot.core.run_states import RunState
from tests.conformance.world import CHAT, Answer, World


async def start_spontaneous(world: World, user: str, title: str) -> Answer:
    """Start one, and point ``stored_run`` at its run."""
    answer = await world.command(user, "startchat", title)
    live = [r for r in await world.store.open_runs() if r.chat_id.startswith("adhoc-")]
    if live:
        world.chat_id = live[0].chat_id
    return answer


async def test_a_spontaneous_chat_from_startchat_to_the_recap(world: World) -> None:
    started = await start_spontaneous(world, "kate", "Panel: AI in schools #aichat")
    assert (
        started.text
        == "Started Panel: AI in schools #aichat. Ask questions with /ask; /endchat ends it."
    )

    await world.at(1)
    asked = await world.command("kate", "ask", "What worries you most?")
    assert asked.text == "Posted Q1."
    assert world.questions() == ["Q1"]
    assert "What worries you most?" in world.posts()[-1].text
    await world.user_says("bob", "A1 students outsourcing their thinking")
    await world.at(2)
    assert (await world.command("kate", "ask", "And what gives you hope?")).text == "Posted Q2."
    assert world.questions() == ["Q1", "Q2"]
    await world.user_says("alice", "A2 teachers sharing what works")
    await world.user_says("bob", "A1 also: homework that writes itself")

    status = await world.command("alice", "chatstatus")
    assert "Panel: AI in schools" in status.text

    await world.at(3)
    ended = await world.command("kate", "endchat")
    assert ended.text.startswith("Ended Panel: AI in schools")
    await world.at(4)
    shown = world.recap_shown()
    assert "Recap: Panel: AI in schools #aichat" in shown
    assert "What worries you most?" in shown and "And what gives you hope?" in shown
    recap = (await world.stored_run()).recap
    assert [(q.id, q.text, len(q.answers)) for q in recap.questions] == [
        ("Q1", "What worries you most?", 2),
        ("Q2", "And what gives you hope?", 1),
    ]

    run = (await world.stored_run()).run
    assert run.state in {RunState.ENDED, RunState.SUMMARISED}
    messages = {m.text: m.question_id for m in (await world.stored_run()).messages}
    assert messages["A1 students outsourcing their thinking"] == "Q1"
    assert messages["A2 teachers sharing what works"] == "Q2"
    assert messages["A1 also: homework that writes itself"] == "Q1"


async def test_a_spontaneous_chat_is_refused_to_people_the_plan_does_not_let(
    world: World,
) -> None:
    refused = await world.command("bob", "startchat", "My own panel")
    assert refused.private
    assert refused.text == "Only kate, marco can start a spontaneous chat."
    assert world.posts() == []


async def test_a_second_chat_in_a_busy_channel_is_refused_with_what_runs(world: World) -> None:
    await start_spontaneous(world, "kate", "Keynote live")
    again = await world.command("marco", "startchat", "Another one")
    assert again.private
    assert again.text == (
        "Keynote live is running in this channel; a host ends it with /endchat first."
    )
    planned = await world.command("kate", "startchat", "tea")  # the plan's chat: busy too
    assert planned.text == again.text


async def test_a_cohost_for_this_run_may_ask(world: World) -> None:
    await start_spontaneous(world, "kate", "Keynote live")
    assert (await world.command("alice", "ask", "Hi?")).text.startswith("Only the hosts")
    added = await world.command("kate", "cohost", "@alice")
    assert added.text == "alice co-hosts this run of Keynote live."
    assert (await world.command("alice", "ask", "What did you notice?")).text == "Posted Q1."
    assert world.questions() == ["Q1"]


async def test_a_spontaneous_chat_outside_the_adhoc_channels_is_refused(world: World) -> None:
    only = AdHoc(channels=["events", "keynotes"])
    world.engine.plan = world.engine.plan.model_copy(update={"adhoc": only})
    refused = await world.command("kate", "startchat", "Keynote live")
    assert refused.private
    assert refused.text == "Spontaneous chats can only be started in: events, keynotes."
    assert world.posts() == []


async def test_ask_in_a_planned_chat_adds_an_extra_question_and_keeps_the_plans(
    world: World,
) -> None:
    """X1 goes out at once after the open Q1; A1 still means Q1, AX1 (or X1) means X1, and
    the plan's Q2 and Q3 keep their ids and times."""
    await world.command("kate", "startchat")  # the plan's chat: Q1 at 5, Q2 at 20, Q3 at 40
    await world.at(5)
    asked = await world.command("marco", "ask", "Who is here for the first time?")
    assert asked.text == "Posted X1."
    assert world.questions() == ["Q1", "X1"]
    assert "answer with AX1" in world.posts()[-1].text
    await world.user_says("alice", "AX1 me, from Leeds")
    await world.user_says("bob", "A1 learning in public")
    await world.user_says("bob", "first time too!")  # unlabelled: the open question, X1
    status = await world.command("alice", "chatstatus")
    assert "X1 of 4 open" in status.text and "next Q2 at " in status.text

    await world.at(19)
    assert world.questions() == ["Q1", "X1"]  # Q2 keeps its time
    await world.at(20)
    assert world.questions() == ["Q1", "X1", "Q2"]
    assert (await world.command("kate", "nextq")).text == "Posted Q3."
    await world.user_says("alice", "X1 and Q3's too")
    await world.at(60)

    stored = await world.stored_run()
    assert {m.text: m.question_id for m in stored.messages} == {
        "AX1 me, from Leeds": "X1",
        "A1 learning in public": "Q1",
        "first time too!": "X1",
        "X1 and Q3's too": "X1",
    }
    snapshot = world.engine.chat_of(stored.run)
    assert [(q.id, q.at) for q in snapshot.questions if not q.extra] == [
        (q.id, q.at) for q in world.engine.plan.chat(CHAT).questions
    ]
    assert [q.id for q in stored.recap.questions] == ["Q1", "X1", "Q2", "Q3"]
    assert "Who is here for the first time?" in world.recap_shown()


async def test_a_restart_mid_spontaneous_chat_resumes_it(world: World) -> None:
    await start_spontaneous(world, "kate", "Keynote live #kn")
    await world.at(1)
    assert (await world.command("kate", "ask", "What struck you?")).text == "Posted Q1."
    await world.user_says("alice", "A1 before the restart")

    await world.restart()  # the process was killed and started again
    await world.user_says("bob", "A1 after the restart")
    assert (await world.command("kate", "ask", "And now?")).text == "Posted Q2."
    await world.user_says("alice", "A2 after the restart, in Q2")
    assert world.questions() == ["Q1", "Q2"]
    assert (await world.command("kate", "endchat")).text.startswith("Ended Keynote live")
    await world.at(3)

    stored = await world.stored_run()
    assert {m.text: m.question_id for m in stored.messages} == {
        "A1 before the restart": "Q1",
        "A1 after the restart": "Q1",
        "A2 after the restart, in Q2": "Q2",
    }
    assert [(q.id, len(q.answers)) for q in stored.recap.questions] == [("Q1", 2), ("Q2", 1)]
    texts = [p.text for p in world.posts()]
    assert world.questions() == ["Q1", "Q2"]  # each once, across both processes
    assert texts[-1].startswith("Recap: Keynote live")


async def test_a_cohost_of_a_planned_run_may_ask_and_steer_it(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    assert (await world.command("alice", "ask", "Hi?")).text.startswith("Only the hosts")
    added = await world.command("kate", "cohost", "@alice")
    assert added.text == "alice co-hosts this run of Tea Chat."
    assert (await world.command("alice", "ask", "Who is new?")).text == "Posted X1."
    assert (await world.command("alice", "nextq")).text == "Posted Q2."
    assert world.questions() == ["Q1", "X1", "Q2"]
    assert [c.cohosts for c in world.engine.plan.chats] == [["marco"]]  # the plan as it was
