"""Spontaneous chats on every platform: a host opens one with ``/startchat TITLE #tag`` where
no plan entry is named, types the questions with ``/ask`` as the event goes, people answer by
label, and ``/endchat`` brings the same recap as a planned chat. Refusals: not allowed, and a
channel whose chat is running.

The world's plan schedules its chat at minute 10 in the same channel; these scenarios finish
before it would start."""

from __future__ import annotations

from bot.core.run_states import RunState
from tests.conformance.world import Answer, World


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
