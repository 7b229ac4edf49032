"""Bots, other guilds, unknown channels, malformed payloads and events right behind their
message: all arriving over the fake's gateway websocket into real discord.py. (Edits, deletes,
reactions and a replay after a resume, which every platform has, are in tests/conformance/.)"""

from __future__ import annotations

from tests.discord.harness import Harness


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
