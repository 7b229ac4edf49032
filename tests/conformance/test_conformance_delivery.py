"""What a platform does wrong, on every platform that can do it: a post whose answer was lost
is found, not posted again; a rate limit is waited out; a message delivered twice is stored
once. Nothing is lost and nothing is doubled."""

from __future__ import annotations

from tests.conformance.world import LOST_ANSWERS, RATE_LIMITS, REDELIVERY, THREADS, World, needs


@needs(LOST_ANSWERS)
async def test_a_question_whose_answer_was_lost_is_not_posted_twice(world: World) -> None:
    await world.command("kate", "startchat")
    world.lose_answer_of_next_post()  # Q1 lands; chathost hears an error
    await world.at(5)
    await world.at(5.5)  # the retry: found (or deduped) by the platform, not sent again
    assert world.questions() == ["Q1"]
    [q1] = [p for p in world.posts() if p.text.startswith("Q1: ")]
    post = (await world.stored_run()).post("question:Q1")
    assert post.posted_at is not None and post.message_id == q1.id  # the one that landed

    if world.can(THREADS):  # in Q1's thread: the post's thread was recorded as well
        await world.user_says("alice", "Tea, of course", thread="Q1")
        expected = ("Q1", "thread")
    else:
        await world.user_says("alice", "A1 tea, of course")
        expected = ("Q1", "label")
    [stored] = (await world.stored_run()).messages
    assert (stored.question_id, stored.reason) == expected
    await world.at(20)
    assert world.questions() == ["Q1", "Q2"]
    await world.check_lost_answer()


@needs(LOST_ANSWERS)
async def test_a_nudge_whose_answer_was_lost_is_not_sent_twice(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(6)
    await world.user_says("bob", "A1 the people")
    world.lose_answer_of_next_post(dm_to="bob")  # the DM lands, unheard
    await world.at(20)  # Q2 goes up; bob has been quiet for 14 minutes: nudged
    await world.at(21)  # the nudge's retry
    [dm] = world.dms("bob")
    assert "Q2 is open now" in dm
    [nudge] = await world.store.nudges((await world.stored_run()).run.id or 0)
    assert nudge.delivered_at is not None and nudge.attempts == 1
    await world.check_lost_nudge()


@needs(RATE_LIMITS)
async def test_a_rate_limit_is_waited_out_and_nothing_is_lost(world: World) -> None:
    await world.command("kate", "startchat")
    world.rate_limit_next_post()
    await world.at(5)  # Q1 meets the limit; the adapter waits it out and sends it again
    assert world.questions() == ["Q1"]
    post = (await world.stored_run()).post("question:Q1")
    assert post.posted_at is not None and post.attempts == 0 and post.error is None

    await world.user_says("bob", "A1 to see old friends")
    [stored] = (await world.stored_run()).messages
    assert (stored.text, stored.user_id) == ("A1 to see old friends", world.user_id("bob"))
    assert stored.user_name == "bob"
    await world.check_rate_limit()
    await world.at(20)
    assert world.questions() == ["Q1", "Q2"]


@needs(REDELIVERY)
async def test_a_message_delivered_twice_is_stored_once(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    said = await world.deliver_twice("bob", "A1 here for the tea")
    stored = await world.stored_run()
    assert [(m.platform_message_id, m.text) for m in stored.messages] == [(said.id, said.text)]
    participants = await world.store.participants(stored.run.id or 0)
    assert [(p.user_id, p.messages) for p in participants] == [(world.user_id("bob"), 1)]
    assert stored.recap.stats.answers == 1
    await world.check_repeated_delivery()
