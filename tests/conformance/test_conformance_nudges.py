"""Nudges on every platform: a quiet participant is nudged once, by DM, and nobody who opted
out with /quietchat is, until they opt in again."""

from __future__ import annotations

from tests.conformance.world import World


async def test_a_nudge_and_an_opt_out(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(6)
    await world.user_says("alice", "A1 the cake")
    await world.user_says("bob", "A1 the people")
    quiet = await world.command("alice", "quietchat")
    assert quiet.private and quiet.text.startswith("Done: chathost will not nudge you")

    await world.at(20)  # Q2 goes up; both have been quiet for 14 minutes
    [nudge] = world.dms("bob")
    assert "Q2 is open now" in nudge and "/quietchat" in nudge
    assert world.dms("alice") == []
    await world.check_opt_out()
    await world.at(40)  # Q3: still quiet, still opted out
    assert world.dms("alice") == []
    assert len(world.dms("bob")) == 1  # one nudge per person at the most
    assert world.dms("kate") == [] and world.dms("marco") == []  # hosts are never nudged
    [nudged] = await world.store.nudges((await world.stored_run()).run.id or 0)
    assert nudged.user_id == world.user_id("bob") and nudged.delivered_at is not None


async def test_quietchat_off_brings_the_nudges_back(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(6)
    await world.user_says("alice", "A1 the cake")
    await world.command("alice", "quietchat")
    await world.at(8)
    back = await world.command("alice", "quietchat", "off")
    assert back.private and back.text == "Nudges are back on for you."
    await world.at(20)
    [nudge] = world.dms("alice")
    assert "Q2 is open now" in nudge
