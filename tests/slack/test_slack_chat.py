"""Whole chats in Slack over HTTP mode: real slack-bolt and slack_sdk, the real core, a fake Slack.

What a participant would see is checked on the fake (posts, blocks, threads, DMs, ephemeral
answers); what chathost remembers is checked in the store and the recap.
"""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.port import SlackPort
from tests.fakes import slack_requests as sr
from tests.slack.world import (
    ALICE,
    BOB,
    CHANNEL,
    KATE,
    SECRET,
    SlackWorld,
    calls_in,
    details_of,
)


def _block_texts(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


async def test_whole_chat_from_startchat_to_recap(world: SlackWorld) -> None:
    answer = await world.command("startchat", user=KATE)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Started Tea Chat")
    intro = world.channel_posts()[0]
    assert intro["text"].startswith("Welcome to Tea Chat!")

    await world.at(5)
    [q1] = world.questions()
    assert q1["text"] == "Q1: What brought you here? #teachat"  # the fallback text
    assert "thread_ts" not in q1  # each question is the parent of its own thread
    q1_ts = world.fake.messages[CHANNEL][-1]["ts"]

    await world.say("My manager sent me, honestly", ALICE, thread_ts=q1_ts)
    await world.say("A1 curiosity about tea", BOB)
    await world.say("Welcome everyone!", KATE)

    await world.at(20)
    q2_ts = world.fake.messages[CHANNEL][-1]["ts"]
    await world.say("Finding the time", ALICE, thread_ts=q2_ts)
    await world.say("A1 also the biscuits", ALICE)  # a late answer to Q1, by its label
    await world.say("A2 steeping it right", BOB, thread_ts=q2_ts)

    await world.at(40)
    await world.say("A3 oolong next https://example.org/oolong", BOB)
    await world.at(60)

    questions = world.questions()
    assert [q["text"].split(":")[0] for q in questions] == ["Q1", "Q2", "Q3"]
    assert all(q["blocks"] and q["text"] for q in questions)

    stored = {m.text: (m.question_id, m.reason, m.kind) for m in await world.messages()}
    assert stored["My manager sent me, honestly"][:2] == ("Q1", "thread")
    assert stored["A1 curiosity about tea"][0] == "Q1"
    assert stored["Finding the time"][0] == "Q2"
    assert stored["A1 also the biscuits"][0] == "Q1"
    assert stored["A2 steeping it right"][0] == "Q2"
    assert stored["A3 oolong next https://example.org/oolong"][0] == "Q3"
    assert stored["Welcome everyone!"][2] == "host"
    names = {m.user_id: m.user_name for m in await world.messages()}
    assert names == {"U0001": "alice", "U0002": "bob", "U0003": "Kate"}

    run = await world.run()
    assert run.state == "summarised"
    recap = await world.engine.recap(run.id or 0)
    assert recap.stats.answers_per_question == {"Q1": 3, "Q2": 2, "Q3": 1}
    assert (recap.stats.participants, recap.stats.answers) == (2, 6)

    # the channel as Slack stores it (with each message's ts)
    [parent] = [m for m in world.fake.messages[CHANNEL] if m["text"].startswith("Recap: Tea Chat")]
    assert "thread_ts" not in parent
    assert parent["blocks"][0]["type"] == "header"
    shown = _block_texts(parent)
    assert "*Answers*\n6" in shown and "*Participants*\n2 (2 new, 0 returning)" in shown
    assert recap.stats.reach == 42  # the channel's members, read from Slack as the chat ended
    assert "*Reach*\n42" in shown
    details = details_of(world, parent)
    assert len(details) == 1
    assert "example.org/oolong" in _block_texts(details[0])
    assert "Thanks alice, bob!" in _block_texts(details[0])
    [cloud] = world.fake.files.values()  # the word cloud, shared into the recap's thread
    assert (cloud["name"], cloud["channels"], cloud["thread_ts"]) == (
        "wordcloud.png",
        [CHANNEL],
        parent["ts"],
    )
    assert world.fake.uploads[cloud["id"]].startswith(b"\x89PNG")
    assert len(world.fake.rejected) == 0


async def test_nextq_by_a_non_host_is_refused(world: SlackWorld) -> None:
    await world.command("startchat", user=KATE)
    posts_before = len(world.channel_posts())
    answer = await world.command("nextq", user=ALICE)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Only the hosts of Tea Chat")
    assert len(world.channel_posts()) == posts_before
    assert world.questions() == []
    # the host may, and hosts are recognised by Slack display name as well as handle
    answer = await world.command("nextq", user=KATE)
    assert answer["text"] == "Posted Q1."
    assert len(world.questions()) == 1


async def test_a_question_whose_answer_was_lost_is_found_not_posted_twice(
    world: SlackWorld,
) -> None:
    await world.command("startchat")
    world.fake.lose_next_answer("chat.postMessage")  # Q1 lands; chathost sees a 500
    await world.at(5)
    await world.at(5.5)  # the retry asks Slack first
    [q1] = world.questions()
    [lookup] = calls_in(world.fake, "conversations.history")
    assert lookup.args["include_all_metadata"] in ("1", "true", True)
    assert q1["metadata"]["event_payload"]["key"].endswith("/question:Q1")
    [q1_ts] = [m["ts"] for m in world.fake.messages[CHANNEL] if m["text"].startswith("Q1:")]
    await world.say("Tea, of course", ALICE, thread_ts=q1_ts)  # in Q1's thread
    [reply] = await world.messages()
    assert (reply.question_id, reply.reason) == ("Q1", "thread")  # its ts was recorded
    await world.at(20)
    assert [q["text"][:2] for q in world.questions()] == ["Q1", "Q2"]


async def test_hosts_pick_answers_for_the_recap_from_the_message_menu(
    world: SlackWorld,
) -> None:
    await world.command("startchat")
    await world.at(5)
    quiet = await world.say("A1 a thoughtful answer nobody reacted to", ALICE)
    refused = await world.shortcut("chathost_highlight", quiet, user=BOB)
    assert refused["response_type"] == "ephemeral" and "Only the hosts" in refused["text"]
    done = await world.shortcut("chathost_highlight", quiet, user=KATE)
    assert done["text"] == "Highlighted: it will be in the recap."
    link = f"https://fake.slack.com/archives/{CHANNEL}/p{quiet.replace('.', '')}"
    undo = await world.command("highlight", link, user=KATE)  # the slash form takes a link
    assert undo["text"] == "Highlight removed."
    await world.at(60)
    await world.shortcut("chathost_highlight", quiet, user=KATE)  # after the end
    [parent] = [m for m in world.fake.messages[CHANNEL] if m["text"].startswith("Recap: Tea Chat")]
    [details] = details_of(world, parent)
    # a pick is shown, starred, though nobody reacted to it: the recap's details were edited
    assert ">:star: *alice*: A1 a thoughtful answer nobody reacted to" in _block_texts(details)
    assert [c.args["ts"] for c in world.fake.calls_to("chat.update")] == [
        parent["ts"],
        details["ts"],
    ]


async def test_after_a_restart_a_late_pick_still_edits_the_recap_details(
    world: SlackWorld,
) -> None:
    await world.command("startchat")
    await world.at(5)
    quiet = await world.say("A1 an answer the host picks after a restart", ALICE)
    await world.at(60)  # the recap is out: headline in the channel, details in its thread
    [parent] = [m for m in world.fake.messages[CHANNEL] if m["text"].startswith("Recap: Tea Chat")]
    [details] = details_of(world, parent)
    assert ":star: *alice*" not in _block_texts(details)

    # A new process: a port that never saw the recap being posted.
    old = world.adapter.port
    fresh = SlackPort(old.client, old.queue, old.directory)
    world.engine.port_for = lambda _platform: fresh
    await world.shortcut("chathost_highlight", quiet, user=KATE)

    assert ">:star: *alice*: A1 an answer the host picks" in _block_texts(details)
    assert [c.args["ts"] for c in world.fake.calls_to("chat.update")] == [
        parent["ts"],
        details["ts"],
    ]
    assert len(calls_in(world.fake, "conversations.replies", ts=parent["ts"])) == 1
    # no second copy of the details was posted
    assert details_of(world, parent) == [details]


async def test_edits_deletes_and_reactions_reach_the_recap(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)
    kept = await world.say("A1 black tea", ALICE)
    gone = await world.say("A1 nothing really", BOB)
    await world.say("Lovely answers", KATE)

    edit = sr.message_changed_event(
        ts=kept,
        text="A1 green tea",
        previous_text="A1 black tea",
        channel=CHANNEL,
        edited_ts=world.ts(),
    )
    await world.event(edit)
    await world.event(sr.message_deleted_event(deleted_ts=gone, channel=CHANNEL))
    for emoji, user, added in [
        ("star", KATE, True),
        ("+1", BOB, True),
        ("tada", BOB, True),
        ("tada", BOB, False),
    ]:
        await world.event(
            sr.reaction_event(emoji, item_ts=kept, user=user[0], channel=CHANNEL, added=added)
        )

    texts = {m.platform_message_id: m for m in await world.messages()}
    assert gone not in texts  # deleted messages leave the run
    assert texts[kept].text == "A1 green tea" and texts[kept].edit_count == 1
    assert texts[kept].original_text == "A1 black tea"

    recap = await world.engine.recap((await world.run()).id or 0)
    q1 = recap.questions[0]
    assert [a.text for a in q1.answers] == ["A1 green tea"]
    assert q1.answers[0].reactions == {"star": ("U0003",), "+1": ("U0002",)}
    assert q1.highlights[0].message_id == kept
    assert recap.stats.reactions == 2


async def test_a_429_is_waited_out_and_nothing_is_lost(world: SlackWorld) -> None:
    await world.command("startchat")
    world.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    world.fake.fail_next("users.info", status=429, retry_after=1)
    await world.at(5)
    assert [q["text"][:2] for q in world.questions()] == ["Q1"]
    assert [c.status for c in world.fake.rejected] == [429]
    posts = [
        p for p in await world.store.posts((await world.run()).id or 0) if p.key == "question:Q1"
    ]
    assert posts[0].posted_at is not None and posts[0].attempts == 0

    await world.say("A1 to see old friends", BOB)  # users.info answers 429 first
    assert [c.status for c in world.fake.rejected] == [429, 429]
    assert [m.user_name for m in await world.messages()] == ["bob"]
    assert world.sleep.delays.count(1.0) == 2  # exactly Retry-After, each time


async def test_retried_and_duplicated_events_are_stored_once(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(5)
    event = sr.message_event("A1 here for the tea", user=BOB[0], channel=CHANNEL, ts=world.ts())
    payload = sr.event_callback(event)
    assert await world.deliver(payload) == 200
    assert await world.deliver(payload, retry_num=1) == 200  # Slack's retry: same event_id
    again = sr.event_callback(event)  # the same message under a new event id
    assert again["event_id"] != payload["event_id"]
    assert await world.deliver(again) == 200
    assert [m.text for m in await world.messages()] == ["A1 here for the tea"]
    assert world.adapter.inbound.duplicates == 1
    participants = await world.store.participants((await world.run()).id or 0)
    assert [(p.user_id, p.messages) for p in participants] == [("U0002", 1)]


async def test_quietchat_means_no_nudge(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(6)
    await world.say("A1 the cake", ALICE)
    await world.say("A1 the people", BOB)
    answer = await world.command("quietchat", user=ALICE)
    assert answer["text"].startswith("Done: chathost will not nudge you")

    await world.at(20)  # Q2 goes up; both have been quiet for 14 minutes
    opened = world.fake.calls_to("conversations.open")
    assert [c.args["users"] for c in opened] == ["U0002"]
    [dm] = world.fake.posted_messages("DU0002")
    assert "Q2 is open now" in dm["text"] and "/quietchat" in dm["text"]
    assert world.fake.posted_messages("DU0001") == []
    await world.at(40)
    assert world.fake.posted_messages("DU0001") == []


async def test_a_nudge_whose_answer_was_lost_is_found_not_sent_twice(world: SlackWorld) -> None:
    await world.command("startchat")
    await world.at(6)
    await world.say("A1 the people", BOB)
    world.fake.lose_next_answer("chat.postMessage", channel="DU0002")  # the DM lands, unheard
    await world.at(20)  # Q2 goes up; bob has been quiet for 14 minutes: nudged
    await world.at(21)  # the nudge's retry looks for it in the DM first
    [dm] = world.fake.posted_messages("DU0002")
    assert "Q2 is open now" in dm["text"]
    assert calls_in(world.fake, "conversations.history", channel="DU0002")
    [nudge] = await world.store.nudges((await world.run()).id or 0)
    assert nudge.delivered_at is not None and nudge.attempts == 1


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
