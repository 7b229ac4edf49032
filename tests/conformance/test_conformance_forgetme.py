"""/forgetme after the recap, on every platform: the posted recap, edited in place, no longer
names or quotes the person (also when the process restarted since the recap went out)."""

from __future__ import annotations

import pytest

from tests.conformance.world import Said, World


async def chat_to_its_recap(world: World) -> tuple[Said, Said]:
    """alice and bob answer, kate picks an answer of each, the chat ends."""
    await world.command("kate", "startchat")
    await world.at(5)
    pearls = await world.user_says("alice", "A1 jasmine pearls, steeped twice")
    lapsang = await world.user_says("bob", "A1 smoky lapsang souchong")
    await world.highlight("kate", pearls)
    await world.highlight("kate", lapsang)
    await world.at(20)
    await world.user_says("alice", "A2 jasmine keeps me calm")
    await world.at(60)
    return pearls, lapsang


@pytest.mark.parametrize("restarted", [False, True], ids=["same-process", "after-a-restart"])
async def test_forgetme_takes_a_person_out_of_the_posted_recap(
    world: World, restarted: bool
) -> None:
    pearls, lapsang = await chat_to_its_recap(world)
    shown = world.recap_shown()
    assert "alice" in shown and pearls.text in shown
    posted = [p.id for p in world.posts()]
    if restarted:
        await world.restart()  # a process that never saw the recap being posted

    await world.at(240)  # hours after the end, well past the late window
    answer = await world.command("alice", "forgetme")
    assert answer.private and answer.text.startswith("Deleted 2 of your stored messages")
    assert "took you out of 1 posted recap" in answer.text

    shown = world.recap_shown()
    assert "alice" not in shown and "jasmine" not in shown.lower()
    assert lapsang.text in shown and "bob" in shown  # bob's pick stays, and he is thanked
    assert [p.id for p in world.posts()] == posted  # edited in place, nothing posted again
    stored = await world.stored_run()
    assert [m.text for m in stored.messages] == [lapsang.text]
    assert stored.recap.stats.participants == 1
    [q1] = [q for q in stored.recap.questions if q.id == "Q1"]
    assert [h.message_id for h in q1.highlights] == [lapsang.id]
    assert "jasmine" not in dict(stored.recap.word_weights)
    await world.check_forgetme(restarted=restarted)
