"""Whole chats through real discord.py and the fake Discord: slash commands in, questions and
threads out, replies stored against the right questions, the recap posted as embeds."""

from __future__ import annotations

from bot.core.store import MessageRow
from tests.discord.harness import EPHEMERAL, Harness


def by_text(messages: list[MessageRow]) -> dict[str, MessageRow]:
    return {m.text: m for m in messages}


async def test_whole_chat_from_startchat_to_recap(harness: Harness) -> None:
    h, fake = harness, harness.fake
    reply = await h.start_chat("kate")
    assert reply.json["type"] == 4 and reply.json["data"]["flags"] == EPHEMERAL
    assert reply.json["data"]["content"].startswith("Started Tea Chat")
    assert h.channel_posts()[-1].json["content"] == "Welcome to Tea Chat! #teachat"

    await h.at(5)  # Q1, with its thread
    (q1,) = h.questions_posted()
    assert q1.json["embeds"][0]["description"] == "Q1: What brought you here? #teachat"
    q1_thread = fake.channel(int(q1.response["id"]))  # a thread from a message shares its id
    assert q1_thread.is_thread and q1_thread.parent_id == fake.channel("general").id
    assert q1_thread.name == "Q1: What brought you here?"

    in_thread = await h.say(q1_thread, "alice", "I came for the oolong")
    await h.say("general", "bob", "A1 the people, honestly")
    await h.say("general", "marco", "Welcome everyone!")  # a cohost: stored as host talk

    await h.at(20)  # Q2
    q2_thread = fake.channel(int(h.questions_posted()[1].response["id"]))
    await h.say("general", "alice", "A1 also the biscuits")  # a late label for Q1
    await h.say(q2_thread, "bob", "Finding quiet time to brew")
    await h.react(in_thread, "kate", "⭐")  # a host's pick

    await h.at(40)  # Q3
    await h.say("general", "alice", "A3 brew a second pot")
    await h.at(60)  # the end: outro, then the recap

    # Each question posted once, each with its own thread.
    assert [q.json["embeds"][0]["description"][:2] for q in h.questions_posted()] == [
        "Q1",
        "Q2",
        "Q3",
    ]
    question_threads = [r for r in h.threads_created() if r.json["name"].startswith("Q")]
    assert [r.json["name"][:2] for r in question_threads] == ["Q1", "Q2", "Q3"]

    # Replies stored against the right questions.
    run = await h.run()
    assert run.state == "summarised"
    stored = by_text(await h.store.run_messages(run.id or 0))
    assert stored["I came for the oolong"].question_id == "Q1"
    assert stored["I came for the oolong"].reason == "thread"
    assert stored["I came for the oolong"].channel_id == str(fake.channel("general").id)
    assert stored["I came for the oolong"].thread_id == str(q1_thread.id)
    assert (
        stored["A1 the people, honestly"].question_id,
        stored["A1 the people, honestly"].reason,
    ) == ("Q1", "label")
    assert stored["A1 also the biscuits"].question_id == "Q1"
    assert stored["Finding quiet time to brew"].question_id == "Q2"
    assert stored["A3 brew a second pot"].question_id == "Q3"
    assert stored["Welcome everyone!"].kind == "host"
    assert stored["I came for the oolong"].user_id == str(fake.user("alice").id)

    recap = await h.engine.recap(run.id or 0)
    assert recap.stats.answers_per_question == {"Q1": 3, "Q2": 1, "Q3": 1}
    assert recap.stats.participants == 2 and recap.stats.answers == 5

    # The recap: headline figures in #general, the details in a thread of it.
    (head,) = [
        r
        for r in h.channel_posts()
        if r.json.get("embeds") and r.json["embeds"][0].get("title", "").startswith("Recap")
    ]
    embed = head.json["embeds"][0]
    assert embed["title"] == "Recap: Tea Chat #teachat"
    assert "**2** participants" in embed["description"]
    assert "**5** answers" in embed["description"]
    members = len(fake.guilds[0].members)  # the server's, as discord.py caches its count
    assert f"Reach: **{members}** server members" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Q1: What brought you here?"] == "3 answers"
    assert fields["Q2: What is hard about it?"] == "1 answer"
    (recap_thread,) = [r for r in h.threads_created() if r.json["name"] == "Recap: Tea Chat"]
    assert (
        recap_thread.path
        == f"/channels/{fake.channel('general').id}/messages/{head.response['id']}/threads"
    )
    details = fake.messages_sent(int(head.response["id"]))
    detail_embeds = [e for r in details for e in r.json.get("embeds", [])]
    assert [e["title"][:2] for e in detail_embeds] == ["Q1", "Q2", "Q3"]
    assert "I came for the oolong" in detail_embeds[0]["description"]  # kate's star
    [cloud] = [r for r in details if r.files]  # the word cloud, after the details
    assert [name for name, _ in cloud.files] == ["wordcloud.png"]
    assert cloud.files[0][1].startswith(b"\x89PNG") and details[-1] is cloud

    # The outro went out once, and nothing the bot posted was recorded as chat.
    assert [r.json["content"] for r in h.channel_posts()].count("Thanks all!") == 1
    assert all(m.user_id != str(fake.bot_user.id) for m in stored.values())


async def test_non_host_nextq_is_refused_privately(harness: Harness) -> None:
    h = harness
    await h.start_chat("kate")
    refused = await h.command("nextq", "bob")
    assert refused.json["type"] == 4
    assert refused.json["data"]["flags"] == EPHEMERAL
    assert refused.json["data"]["content"] == ("Only the hosts of Tea Chat (kate) can use /nextq.")
    assert h.questions_posted() == []

    allowed = await h.command("nextq", "marco")  # a cohost may
    assert allowed.json["data"]["content"] == "Posted Q1."
    assert len(h.questions_posted()) == 1


async def test_replies_inherit_the_question_they_reply_to(harness: Harness) -> None:
    h = harness
    await h.start_chat()
    await h.at(5)
    answer = await h.say("general", "alice", "A1 tea with friends")
    await h.at(20)  # Q2 is open now
    reply = await h.say("general", "bob", "same here!", message_reference=answer["id"])
    q2_thread = int(h.questions_posted()[1].response["id"])
    in_thread = await h.say(q2_thread, "kate", "good point", message_reference=answer["id"])

    run = await h.run()
    stored = {m.platform_message_id: m for m in await h.store.run_messages(run.id or 0)}
    assert (stored[reply["id"]].question_id, stored[reply["id"]].reason) == ("Q1", "reply")
    assert stored[reply["id"]].reply_to == answer["id"]
    # A thread says more than a reply: the message in Q2's thread counts for Q2.
    assert (stored[in_thread["id"]].question_id, stored[in_thread["id"]].reason) == (
        "Q2",
        "thread",
    )
