"""Edits, deletes, reactions, replays after a resume, bots and malformed payloads: all arriving
over the fake's gateway websocket into real discord.py."""

from __future__ import annotations

from tests.discord.harness import Harness


async def test_edits_deletes_and_reactions_reach_the_stored_run(harness: Harness) -> None:
    h = harness
    await h.start_chat()
    await h.at(5)
    q1_thread = int(h.questions_posted()[0].response["id"])
    answer = await h.say("general", "alice", "A1 green tea")
    in_thread = await h.say(q1_thread, "bob", "rooibos")
    mistake = await h.say("general", "bob", "A1 oops, wrong channel")

    await h.react(answer, "bob", "👍")
    await h.react(answer, "kate", "⭐")
    await h.react(answer, "alice", "🍵")
    await h.react(answer, "alice", "🍵", remove=True)
    await h.edit(answer, "A1 green tea, always")
    await h.edit(in_thread, "rooibos, no milk")  # an edit inside a thread finds its message
    await h.delete(mistake)

    run = await h.run()
    stored = {m.platform_message_id: m for m in await h.store.run_messages(run.id or 0)}
    assert mistake["id"] not in stored  # deleted messages leave the run
    assert stored[answer["id"]].text == "A1 green tea, always"
    assert stored[answer["id"]].edit_count == 1
    assert stored[in_thread["id"]].text == "rooibos, no milk"
    assert stored[in_thread["id"]].question_id == "Q1"  # still its thread's question

    reactions = {(r.user_id, r.emoji) for r in await h.store.reactions_for_run(run.id or 0)}
    fake = h.fake
    assert reactions == {(str(fake.user("bob").id), "👍"), (str(fake.user("kate").id), "⭐")}
    recap = await h.engine.recap(run.id or 0)
    (highlight,) = recap.questions[0].highlights
    assert highlight.message_id == answer["id"] and highlight.reaction_count == 2


async def test_a_replayed_message_after_a_resume_is_stored_once(harness: Harness) -> None:
    h = harness
    await h.start_chat()
    await h.at(5)
    sent = await h.say("general", "alice", "A1 delivered twice")
    # op 7 RECONNECT; on RESUME the fake re-sends the last event: the same MESSAGE_CREATE.
    await h.fake.drop_connections(reconnect_op=True, replay_last=1)
    twice = await h.adapter.journal.wait_for("message", sent["id"], count=2)
    assert [t.outcome for t in twice] == ["stored", "unchanged"]
    assert len(h.fake.gateway_ops(6)) == 1  # it was a RESUME, not a new session

    run = await h.run()
    stored = [
        m for m in await h.store.run_messages(run.id or 0) if m.platform_message_id == sent["id"]
    ]
    assert len(stored) == 1
    participants = await h.store.participants(run.id or 0)
    assert [p.messages for p in participants] == [1]


async def test_bots_other_guilds_and_unknown_channels_are_skipped(harness: Harness) -> None:
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    fake.add_user("otherbot", bot=True)
    await h.say("general", "otherbot", "A1 beep")
    # A channel the fake does not know: discord.py's PartialMessageable, a 404 on lookup.
    ghost = fake.message_payload("general", "alice", "A1 from nowhere")
    ghost["channel_id"] = "999"
    await fake.dispatch("MESSAGE_CREATE", ghost)
    await h.adapter.journal.wait_for("message", ghost["id"])
    await h.say("general", "alice", "A1 real")

    run = await h.run()
    assert [m.text for m in await h.store.run_messages(run.id or 0)] == ["A1 real"]
    outcomes = {h_.ident: h_.outcome for h_ in h.adapter.journal.items}
    assert outcomes[ghost["id"]] == "skipped"


async def test_a_malformed_payload_is_logged_and_the_client_carries_on(
    harness: Harness, caplog
) -> None:
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    broken = fake.message_payload("general", "alice", "A1 no author")
    del broken["author"]  # discord.py's Message() raises KeyError on this
    await fake.dispatch("MESSAGE_CREATE", broken)
    after = await h.say("general", "alice", "A1 still here")  # same socket, same session

    run = await h.run()
    assert [m.text for m in await h.store.run_messages(run.id or 0)] == ["A1 still here"]
    assert after["id"] != broken["id"]
    assert len(fake.gateway_ops(2)) == 1 and fake.gateway_ops(6) == []  # never reconnected
    assert "MESSAGE_CREATE payload discord.py could not read" in caplog.text


async def test_messages_outside_a_live_chat_are_not_recorded(harness: Harness) -> None:
    h = harness
    await h.say("chats", "alice", "A1 wrong channel")  # no chat planned in #chats
    handled = h.adapter.journal.items[-1]
    assert handled.outcome == "unchanged"
    assert await h.store.run_messages((await h.run()).id or 0) == []


async def test_an_edit_and_a_reaction_right_behind_their_message_are_not_lost(
    harness: Harness,
) -> None:
    """discord.py handles each event in its own task; the adapter keeps a channel's events in
    arrival order, so the edit never looks for a message that is not stored yet."""
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    sent = await fake.user_says("general", "alice", "A1 first draft")
    await fake.user_edits(sent["id"], "A1 final answer")
    await fake.user_reacts(sent["id"], "bob", "👍")
    await h.adapter.journal.wait_for("reaction", sent["id"])

    (stored,) = await h.store.run_messages((await h.run()).id or 0)
    assert (stored.text, stored.edit_count) == ("A1 final answer", 1)
    assert len(await h.store.reactions_for_run(stored.run_id)) == 1
