"""A whole chat, start to recap, the same on every platform: what the channel shows, which
question each reply is stored against, and the recap's counts."""

from __future__ import annotations

from tests.conformance.world import REPLIES, THREADS, World, needs

LINK = "https://example.org/oolong"


async def test_a_whole_chat_from_startchat_to_recap(world: World) -> None:
    started = await world.command("kate", "startchat")
    assert started.private and started.text.startswith("Started Tea Chat")
    [intro] = world.posts()
    assert intro.text == "Welcome to Tea Chat! #teachat"

    await world.at(4)
    assert world.questions() == []  # Q1 is planned at 5 minutes, not earlier
    await world.at(5)
    assert world.questions() == ["Q1"]
    assert world.posts()[-1].text == "Q1: What brought you here? #teachat"
    manager = await world.user_says("alice", "My manager sent me, honestly")  # Q1 is open
    await world.user_says("bob", "A1 curiosity about tea")
    await world.user_says("marco", "Welcome everyone!")  # a cohost: the host feed
    await world.user_says("kate", "Lovely to see you all")  # the host: the host feed
    picked = await world.highlight("kate", manager)
    assert picked.private and picked.text == "Highlighted: it will be in the recap."

    await world.at(20)
    assert world.questions() == ["Q1", "Q2"]
    await world.user_says("alice", "A1 also the biscuits")  # a late answer to Q1, by its label
    await world.user_says("bob", "Finding quiet time to brew")
    await world.at(40)
    await world.user_says("bob", f"A3 oolong next {LINK}")
    await world.at(60)  # the end: the outro, then the recap

    texts = [p.text for p in world.posts()]
    assert world.questions() == ["Q1", "Q2", "Q3"]  # each once, in order
    assert texts[0].startswith("Welcome to Tea Chat!")
    assert [t.split(":")[0] for t in texts[1:4]] == ["Q1", "Q2", "Q3"]
    assert texts[4].startswith("Thanks all!")
    assert texts[5].startswith("Recap: Tea Chat")
    assert len(texts) == 6  # nothing else, nothing twice

    stored = await world.stored_run()
    assert stored.run.state == "summarised"
    attributed = {m.text: (m.question_id, m.reason, m.kind) for m in stored.messages}
    assert attributed == {
        "My manager sent me, honestly": ("Q1", "open", "answer"),
        "A1 curiosity about tea": ("Q1", "label", "answer"),
        "Welcome everyone!": ("Q1", "open", "host"),  # the host feed
        "Lovely to see you all": ("Q1", "open", "host"),
        "A1 also the biscuits": ("Q1", "label", "answer"),
        "Finding quiet time to brew": ("Q2", "open", "answer"),
        f"A3 oolong next {LINK}": ("Q3", "label", "answer"),
    }  # what people said, and nothing the bot posted
    people = {m.text: m.user_id for m in stored.messages}
    assert people["My manager sent me, honestly"] == world.user_id("alice")
    assert people["A1 curiosity about tea"] == world.user_id("bob")
    assert people["Welcome everyone!"] == world.user_id("marco")
    assert people["Lovely to see you all"] == world.user_id("kate")

    recap = stored.recap
    assert recap.stats.answers_per_question == {"Q1": 3, "Q2": 1, "Q3": 1}
    assert (recap.stats.participants, recap.stats.answers) == (2, 5)
    assert recap.stats.host_messages == 2
    assert [link.url for link in recap.links] == [LINK]
    [q1] = [q for q in recap.questions if q.id == "Q1"]
    assert [h.message_id for h in q1.highlights] == [manager.id]
    assert manager.text in world.recap_shown()
    await world.check_whole_chat(
        {
            "participants": 2,
            "answers": 5,
            "answers_per_question": recap.stats.answers_per_question,
            "link": "example.org/oolong",
            "thanked": "bob, alice",  # most answers first
            "highlight": "My manager sent me, honestly",
        }
    )


@needs(THREADS)
async def test_replies_in_a_questions_thread_count_for_that_question(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    await world.user_says("alice", "I came for the oolong", thread="Q1")
    await world.at(20)
    await world.user_says("bob", "still thinking about Q1", thread="Q1")  # Q2 is open now
    await world.user_says("alice", "Finding the time", thread="Q2")
    await world.user_says("bob", "A1 steeping it right", thread="Q2")  # the thread wins
    await world.at(60)

    stored = await world.stored_run()
    attributed = {m.text: (m.question_id, m.reason) for m in stored.messages}
    assert attributed == {
        "I came for the oolong": ("Q1", "thread"),
        "still thinking about Q1": ("Q1", "thread"),
        "Finding the time": ("Q2", "thread"),
        "A1 steeping it right": ("Q2", "thread"),
    }
    threads = {m.text: m.thread_id for m in stored.messages}
    assert threads["I came for the oolong"] == threads["still thinking about Q1"]
    assert threads["Finding the time"] == threads["A1 steeping it right"]
    assert threads["I came for the oolong"] == stored.post("question:Q1").thread_id
    assert threads["Finding the time"] == stored.post("question:Q2").thread_id
    assert {m.channel_id for m in stored.messages} == {stored.run.channel_id}  # the channel's
    assert stored.recap.stats.answers_per_question == {"Q1": 2, "Q2": 2, "Q3": 0}


@needs(REPLIES, THREADS)
async def test_a_reply_inherits_the_question_of_the_message_it_replies_to(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    answer = await world.user_says("alice", "A1 tea with friends")
    await world.at(20)  # Q2 is open now
    reply = await world.user_says("bob", "same here!", reply_to=answer)
    in_thread = await world.user_says("kate", "good point", thread="Q2", reply_to=answer)

    stored = (await world.stored_run()).by_id()
    assert (stored[reply.id].question_id, stored[reply.id].reason) == ("Q1", "reply")
    assert stored[reply.id].reply_to == answer.id
    # a thread says more than a reply: the message in Q2's thread counts for Q2
    assert (stored[in_thread.id].question_id, stored[in_thread.id].reason) == ("Q2", "thread")
