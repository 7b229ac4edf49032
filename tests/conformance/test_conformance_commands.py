"""Host commands on every platform: refused to people who do not host, and a host's pick for
the recap, before and after the end."""

from __future__ import annotations

from tests.conformance.world import World


async def test_a_host_command_by_a_non_host_is_refused(world: World) -> None:
    await world.command("kate", "startchat")
    before = world.posts()
    refused = await world.command("bob", "nextq")
    assert refused.private
    assert refused.text == "Only the hosts of Tea Chat (kate) can use /nextq."
    assert world.posts() == before and world.questions() == []

    allowed = await world.command("marco", "nextq")  # a co-host may
    assert allowed.text == "Posted Q1."
    assert world.questions() == ["Q1"]
    again = await world.command("kate", "nextq")  # and the host
    assert again.text == "Posted Q2."
    assert world.questions() == ["Q1", "Q2"]


async def test_a_hosts_pick_shows_in_the_recap(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    quiet = await world.user_says("alice", "A1 a thoughtful answer nobody reacted to")
    other = await world.user_says("bob", "A1 another answer")

    refused = await world.highlight("bob", quiet)
    assert refused.private and refused.text.startswith("Only the hosts")
    done = await world.highlight("kate", quiet)
    assert done.private and done.text == "Highlighted: it will be in the recap."
    undo = await world.command("kate", "highlight", world.link(quiet))  # again: taken back
    assert undo.text == "Highlight removed."
    picked = await world.highlight("kate", other)
    assert picked.text == "Highlighted: it will be in the recap."

    await world.at(60)
    shown = world.recap_shown()
    assert other.text in shown and quiet.text not in shown
    posted = [p.id for p in world.posts()]

    late = await world.highlight("kate", quiet)  # after the end: the posted recap changes
    assert late.text == "Highlighted: it will be in the recap."
    assert quiet.text in world.recap_shown()
    assert [p.id for p in world.posts()] == posted  # updated in place, nothing posted again
    [q1] = [q for q in (await world.stored_run()).recap.questions if q.id == "Q1"]
    assert {h.message_id for h in q1.highlights} == {quiet.id, other.id}
    await world.check_pick(quiet, restarted=False)


async def test_after_a_restart_a_late_pick_still_edits_the_posted_recap(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    quiet = await world.user_says("alice", "A1 an answer the host picks after a restart")
    await world.at(60)  # the recap is out
    assert quiet.text not in world.recap_shown()
    posted = [p.id for p in world.posts()]

    await world.restart()  # a new process, which never saw the recap being posted
    late = await world.highlight("kate", quiet)
    assert late.text == "Highlighted: it will be in the recap."
    assert quiet.text in world.recap_shown()
    assert [p.id for p in world.posts()] == posted  # edited in place, nothing posted again
    await world.check_pick(quiet, restarted=True)
