"""A restart mid-chat on every platform: the new process resumes at the right question, posts
nothing already posted, and stores every reply, before and after."""

from __future__ import annotations

from tests.conformance.world import THREADS, World


async def test_a_restart_mid_chat_resumes_at_the_right_question(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    await world.user_says("alice", "A1 before the restart")

    await world.restart()  # the process was killed and started again
    await world.user_says("alice", "A1 after the restart")
    await world.user_says("bob", "A1 new after the restart")  # someone new since
    if world.can(THREADS):  # the thread of a question posted before the restart
        await world.user_says("bob", "in Q1's thread", thread="Q1")
    posted = await world.command("kate", "nextq")
    assert posted.text == "Posted Q2."  # the next one, not Q1 again
    await world.at(20)  # Q2's planned time: it is out already
    assert world.questions() == ["Q1", "Q2"]
    await world.user_says("bob", "A2 after the restart, in Q2")
    await world.at(40)
    await world.at(60)

    texts = [p.text for p in world.posts()]
    assert world.questions() == ["Q1", "Q2", "Q3"]
    assert [t.split()[0] for t in texts].count("Welcome") == 1
    assert texts[-2].startswith("Thanks all!") and texts[-1].startswith("Recap: Tea Chat")
    assert len(texts) == 6

    stored = await world.stored_run()
    expected = {
        "A1 before the restart": "Q1",
        "A1 after the restart": "Q1",
        "A1 new after the restart": "Q1",
        "A2 after the restart, in Q2": "Q2",
    }
    if world.can(THREADS):
        expected["in Q1's thread"] = "Q1"
    assert {m.text: m.question_id for m in stored.messages} == expected
    assert stored.run.state == "summarised"
    participants = await world.store.participants(stored.run.id or 0)
    assert {p.user_id for p in participants} == {world.user_id("alice"), world.user_id("bob")}
    ids = [p.message_id for p in stored.posts if p.message_id]
    assert len(ids) == len(set(ids)) >= 6  # each post has an id of its own, across processes
