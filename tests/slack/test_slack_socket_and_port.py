"""Socket Mode end to end, and the outbound Port: pacing, splitting, errors, DMs."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.core.events import User
from bot.core.ports import Outgoing, PortError
from bot.core.store import Store
from tests.fakes import slack_requests as sr
from tests.slack.world import ALICE, BOB, CHANNEL, INTERVAL, KATE, SlackWorld, slack_world


async def test_a_chat_over_socket_mode(store: Store) -> None:
    async with slack_world(store, mode="socket") as world:
        fake = world.fake
        assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"
        command = sr.slash_command(
            "/startchat",
            user_id=KATE[0],
            user_name=KATE[1],
            channel_id=CHANNEL,
            channel_name="chat2lrn",
            response_url=fake.response_url("start"),
        )
        envelope = await fake.push_socket_event("slash_commands", command)
        assert await fake.wait_ack(envelope) == {"envelope_id": envelope}  # acked, empty
        [answer] = await fake.wait_for("response_url:start")
        assert answer.args["text"].startswith("Started Tea Chat")
        await world.adapter.drain()

        await world.at(5)
        q1_ts = fake.messages[CHANNEL][-1]["ts"]
        event = sr.message_event(
            "tea with my gran", user=BOB[0], channel=CHANNEL, ts=world.ts(), thread_ts=q1_ts
        )
        payload = sr.event_callback(event)
        for retry in (0, 1):  # the first delivery, then Slack's retry of the same event
            envelope = await fake.push_socket_event("events_api", payload, retry_attempt=retry)
            await fake.wait_ack(envelope)
            await world.adapter.drain()
        [stored] = await world.messages()
        assert (stored.text, stored.question_id, stored.user_name) == (
            "tea with my gran",
            "Q1",
            "bob",
        )
        assert world.adapter.inbound.duplicates == 1

        # without a usable response_url the answer comes as an ephemeral message
        refused = sr.slash_command(
            "/nextq", user_id=ALICE[0], channel_id=CHANNEL, channel_name="chat2lrn"
        )
        envelope = await fake.push_socket_event("slash_commands", refused)
        await fake.wait_ack(envelope)
        await world.adapter.drain()
        [ephemeral] = fake.calls_to("chat.postEphemeral")
        assert ephemeral.args["user"] == ALICE[0]
        assert ephemeral.args["text"].startswith("Only the hosts")
    assert not fake._sockets  # stop() closed the socket


async def test_send_queue_keeps_one_message_per_interval_per_channel(world: SlackWorld) -> None:
    fake = world.fake
    fake.rate_limit("chat.postMessage", per_second=1 / INTERVAL, burst=1)
    port = world.adapter.port
    posts = [port.post(CHANNEL, Outgoing("notice", f"n{i}")) for i in range(6)]
    posts += [port.post("C0002", Outgoing("notice", f"other{i}")) for i in range(3)]
    refs = await asyncio.gather(*posts)

    assert fake.ratelimited_count == 0  # never had to be told to slow down
    assert [m["text"] for m in fake.posted_messages(CHANNEL)] == [f"n{i}" for i in range(6)]
    assert [m["text"] for m in fake.posted_messages("C0002")] == [f"other{i}" for i in range(3)]
    times = [c.at for c in fake.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]
    assert all(b - a >= INTERVAL * 0.9 for a, b in itertools.pairwise(times))
    assert len({r.message_id for r in refs}) == 9


async def test_a_burst_beyond_the_limit_is_retried_not_lost(world: SlackWorld) -> None:
    fake = world.fake
    # Slack enforcing a much slower pace than the queue keeps: every 429 is waited out.
    fake.rate_limit("chat.postMessage", per_second=2.0, burst=1)
    await asyncio.gather(
        *(world.adapter.port.post(CHANNEL, Outgoing("notice", f"m{i}")) for i in range(3))
    )
    assert [m["text"] for m in fake.posted_messages(CHANNEL)] == ["m0", "m1", "m2"]
    assert fake.ratelimited_count == len(fake.rejected) >= 1
    assert all(d >= 1.0 for d in world.sleep.delays if d > INTERVAL)


async def test_long_text_is_split_below_slacks_limit(world: SlackWorld) -> None:
    line = "All about tea, from leaf to cup. " * 10 + "\n"
    text = line * 300  # about 100,000 characters
    ref = await world.adapter.port.post(CHANNEL, Outgoing("announce", text))
    posted = world.fake.posted_messages(CHANNEL)
    assert len(posted) == 3 and all(len(m["text"]) <= 40_000 for m in posted)
    words = " ".join(m["text"] for m in posted).split()
    assert words == text.split()  # nothing lost, cut at line breaks
    assert ref.message_id == world.fake.messages[CHANNEL][0]["ts"]


async def test_threads_names_and_updates(world: SlackWorld) -> None:
    port = world.adapter.port
    parent = await port.post("#chat2lrn", Outgoing("intro", "Hello"), start_thread="Tea Chat")
    assert parent.channel_id == CHANNEL and parent.thread_id == parent.message_id
    reply = await port.post("chat2lrn", Outgoing("notice", "in it"), thread_id=parent.thread_id)
    assert reply.thread_id is None
    assert world.fake.posted_messages(CHANNEL)[1]["thread_ts"] == parent.message_id
    await port.update(parent, Outgoing("intro", "Hello & welcome <3"))
    assert world.fake.messages[CHANNEL][0]["text"] == "Hello &amp; welcome &lt;3"
    nudge = Outgoing("nudge", "Q2 is open", mention=User("U0002", "bob"))
    await port.post(CHANNEL, nudge)
    assert world.fake.posted_messages(CHANNEL)[-1]["text"] == "<@U0002> Q2 is open"


async def test_dm_to_a_host_named_in_the_plan(world: SlackWorld) -> None:
    ref = await world.adapter.port.send_dm(User("kate", "kate"), Outgoing("notice", "Heads up"))
    assert ref.channel_id == "DU0003"
    assert world.fake.calls_to("conversations.open")[0].args["users"] == "U0003"
    assert world.fake.posted_messages("DU0003")[0]["text"] == "Heads up"
    with pytest.raises(PortError) as missing:
        await world.adapter.port.send_dm(User("nobody", "nobody"), Outgoing("notice", "?"))
    assert missing.value.permanent


async def test_errors_become_port_errors(world: SlackWorld) -> None:
    port = world.adapter.port
    with pytest.raises(PortError) as unknown:
        await port.post("no-such-channel", Outgoing("notice", "hi"))
    assert unknown.value.permanent and unknown.value.kind == "channel_not_found"

    world.fake.responses["chat.postMessage"] = {"ok": False, "error": "not_in_channel"}
    with pytest.raises(PortError) as outside:
        await port.post(CHANNEL, Outgoing("notice", "hi"))
    assert outside.value.permanent and outside.value.kind == "not_in_channel"

    del world.fake.responses["chat.postMessage"]
    world.fake.fail_next("chat.postMessage", status=500)
    with pytest.raises(PortError) as flaky:
        await port.post(CHANNEL, Outgoing("notice", "hi"))
    assert not flaky.value.permanent  # the engine retries it later
    await port.post(CHANNEL, Outgoing("notice", "hi"))
    assert [m["text"] for m in world.fake.messages[CHANNEL]] == ["hi"]  # landed once


async def test_a_post_that_fails_for_good_is_reported_to_the_hosts(store: Store) -> None:
    from tests.support import make_plan

    plan = make_plan(platform="slack", channel="nowhere", threads="per-question")
    async with slack_world(store, plan=plan) as world:
        await world.engine.tick()
        world.clock.set(world.clock.now().replace(minute=30))
        await world.engine.tick()  # the intro cannot be posted: no such channel
        [dm] = world.fake.posted_messages("DU0003")  # kate, a host, hears about it
        assert "could not post intro" in dm["text"]
