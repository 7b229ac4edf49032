"""Slack's own cases over HTTP mode: real slack-bolt and slack_sdk, the real core, a fake Slack.

The scenarios every platform shares (a whole chat, refusals, picks, lost answers, rate
limits, redeliveries, edits, nudges, restarts) are in tests/conformance/, with Slack's own
evidence for them (Block Kit, metadata look-ups, Retry-After) in its world there. Here: what
only Slack has (signatures, display names, renames, subtypes, malformed events).
"""

from __future__ import annotations

from typing import Any

from tests.fakes import slack_requests as sr
from tests.slack.world import (
    ALICE,
    BOB,
    CHANNEL,
    SECRET,
    SlackWorld,
    calls_in,
)


async def test_a_new_display_name_shows_from_the_next_message_on(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)
    await world.say("A1 before", ALICE)
    profile = {"display_name": "Ali", "real_name": "Alice Example"}
    changed = {"id": ALICE[0], "name": "alice", "real_name": "Alice Example", "profile": profile}
    await world.event({"type": "user_change", "user": changed})
    await world.event({"type": "user_change"})  # malformed: logged and skipped
    await world.say("A1 after", ALICE)
    names = [(m.text, m.user_name) for m in await world.messages()]
    assert names == [("A1 before", "alice"), ("A1 after", "Ali")]
    assert len(calls_in(world.fake, "users.info", user=ALICE[0])) == 1  # the event was enough
    assert world.adapter.inbound.malformed == 1


async def test_a_channel_renamed_mid_chat_keeps_its_chat(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)  # the plan names the channel chat2lrn; Q1 is up
    world.fake.channels[CHANNEL]["name"] = "tea-time"
    await world.event({"type": "channel_rename", "channel": {"id": CHANNEL, "name": "tea-time"}})
    await world.say("A1 still here after the rename", ALICE)
    await world.at(20)
    assert [q["text"][:2] for q in world.questions()] == ["Q1", "Q2"]  # posted by the id
    assert [m.text for m in await world.messages()] == ["A1 still here after the rename"]
    assert (await world.run()).channel_id == CHANNEL


async def test_wrong_or_stale_signatures_get_401_and_record_nothing(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)
    assert world.adapter.url is not None
    payload = sr.event_callback(
        sr.message_event("A1 sneaky", user=BOB[0], channel=CHANNEL, ts=world.ts())
    )
    body = sr.encode_json(payload)
    wrong = sr.signed_headers("not-the-secret", body, content_type="application/json")
    stale = sr.signed_headers(
        SECRET, body, timestamp=1_000_000_000, content_type="application/json"
    )
    for headers in (wrong, stale, {"Content-Type": "application/json"}):
        async with world.http.post(world.adapter.url, data=body, headers=headers) as resp:
            assert resp.status == 401
    await world.adapter.drain()
    assert await world.messages() == []
    assert calls_in(world.fake, "users.info", user="U0002") == []
    # the same body, properly signed, is accepted
    assert await world.deliver(payload) == 200
    assert [m.text for m in await world.messages()] == ["A1 sneaky"]


async def test_chats_lists_times_for_each_readers_time_zone(world: SlackWorld) -> None:
    answer = await world.command("chats", user=ALICE)
    assert answer["response_type"] == "ephemeral"
    assert "*Tea Chat* (tea): <!date^1796153400^{date_short_pretty} {time}|" in answer["text"]
    status = await world.command("chatstatus", user=ALICE)
    assert status["text"].startswith("Tea Chat: ")


async def test_malformed_events_are_logged_and_skipped(world: SlackWorld, caplog: Any) -> None:
    await world.command("startchat")
    await world.at(5)
    bad = sr.message_event("A1 oops", user=BOB[0], channel=CHANNEL, ts=world.ts())
    bad["ts"] = 12345  # a number, not Slack's string
    payload = await world.event(bad)
    no_item = sr.reaction_event("star", item_ts="1.0", channel=CHANNEL)
    del no_item["item"]
    payload2 = await world.event(no_item)
    assert payload["event_id"] in caplog.text and payload2["event_id"] in caplog.text
    assert world.adapter.inbound.malformed == 2
    await world.say("A1 still listening", BOB)
    assert [m.text for m in await world.messages()] == ["A1 still listening"]


async def test_bots_joins_and_other_subtypes_are_not_answers(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)
    await world.event(
        sr.message_event("beep", user="U0009", channel=CHANNEL, ts=world.ts(), bot_id="B9")
    )
    await world.event(
        sr.message_event(
            "joined", user=ALICE[0], channel=CHANNEL, ts=world.ts(), subtype="channel_join"
        )
    )
    await world.event(sr.member_joined_event(ALICE[0], channel=CHANNEL))
    assert await world.messages() == []
    assert world.adapter.inbound.joins[CHANNEL] == 1
