"""The Port on Discord: DMs, mentions, errors, edits, long posts, retries. (A rate limit met by a
question is in tests/conformance/, with Discord's evidence in its world there.)"""

from __future__ import annotations

import pytest

from bot.core.events import User
from bot.core.ports import Outgoing, PortError, PostedRef
from bot.core.store import PostRow, RunRow, Store
from bot.export.pictures import recap_pictures
from tests.discord.harness import Harness, Json, running_harness, tea_plan


async def test_nudges_by_dm_by_id_or_by_name_and_by_mention(harness: Harness) -> None:
    h, fake = harness, harness.fake
    alice = fake.user("alice")
    port = h.adapter.port

    ref = await port.send_dm(User(str(alice.id), "alice"), Outgoing("nudge", "We miss you"))
    assert ref.channel_id == str(fake.dm_channel("alice").id)
    assert fake.messages_sent(fake.dm_channel("alice").id)[0].json["content"] == "We miss you"

    # The engine tells hosts listed by name (kate) about failures: found via the gateway.
    await port.send_dm(User("kate", "kate"), Outgoing("notice", "could not post Q2"))
    (sent,) = fake.messages_sent(fake.dm_channel("kate").id)
    assert sent.json["content"] == "could not post Q2"
    assert fake.gateway_ops(8)  # a member query: works without the Members intent

    bob = fake.user("bob")
    nudge = Outgoing("nudge", "Q1 is open", mention=User(str(bob.id), "bob"))
    await port.post("general", nudge)
    body = h.channel_posts()[-1].json
    assert body["content"] == f"<@{bob.id}> Q1 is open"
    assert body["allowed_mentions"] == {"parse": ["users"]}  # never @everyone or roles


async def test_failures_become_port_errors(harness: Harness) -> None:
    h, fake = harness, harness.fake
    port = h.adapter.port
    with pytest.raises(PortError) as missing:
        await port.post("no-such-channel", Outgoing("notice", "hello"))
    assert missing.value.permanent and "no channel named #no-such-channel" in str(missing.value)

    fake.fail_next("POST", "/channels/{id}/messages", status=403)
    with pytest.raises(PortError) as forbidden:
        await port.post("general", Outgoing("notice", "hello"))
    assert forbidden.value.permanent and forbidden.value.kind == "forbidden"

    fake.fail_next("POST", "/channels/{id}/messages", status=503)
    with pytest.raises(PortError) as outage:
        await port.post("general", Outgoing("notice", "hello"))
    assert not outage.value.permanent  # the engine retries later

    with pytest.raises(PortError) as gone:
        await port.send_dm(User("123456789", "ghost"), Outgoing("nudge", "hi"))
    assert gone.value.permanent and gone.value.kind == "not_found"


async def test_a_retried_post_is_not_posted_twice(harness: Harness) -> None:
    """The engine retries a post whose response was lost; Discord's enforce_nonce returns the
    message it already has (the fake does the same)."""
    h = harness
    message = Outgoing("question", "Q1: What brought you here?", "Tea Chat", question_id="Q1")
    first = await h.adapter.port.post("general", message)
    again = await h.adapter.port.post("general", message)
    assert again.message_id == first.message_id
    assert len({r.response["id"] for r in h.channel_posts()}) == 1


async def test_a_keyed_post_retried_after_a_lost_answer_keeps_its_message_and_thread(
    harness: Harness,
) -> None:
    """A process died after its recap landed; the one taking over renders it anew (one more
    answer by now) and sends it with the same key: Discord returns the first message, and the
    thread opened then is the post's thread."""
    h = harness
    first = Outgoing("recap", "12 messages", "Tea Chat", key="tea/1/recap")
    again = Outgoing("recap", "13 messages", "Tea Chat", key="tea/1/recap")
    ref = await h.adapter.port.post("general", first, start_thread="Tea Chat recap")
    retried = await h.adapter.port.post("general", again, start_thread="Tea Chat recap")
    assert (retried.message_id, retried.thread_id) == (ref.message_id, ref.thread_id)
    assert ref.thread_id == ref.message_id
    assert len({r.response["id"] for r in h.channel_posts()}) == 1
    other = await h.adapter.port.post(
        "general", Outgoing("recap", "12 messages", key="tea/2/recap")
    )
    assert other.message_id != ref.message_id  # another run's recap, same text: a new post


async def test_channels_by_id_and_posts_into_threads(harness: Harness) -> None:
    h, fake = harness, harness.fake
    general = fake.channel("general")
    port = h.adapter.port
    ref = await port.post(str(general.id), Outgoing("intro", "Hi"), start_thread="Tea Chat")
    assert ref.channel_id == str(general.id) and ref.thread_id == ref.message_id
    inside = await port.post(
        str(general.id), Outgoing("question", "Q1: x"), thread_id=ref.thread_id
    )
    assert inside.channel_id == ref.thread_id  # where the message is, for later edits
    assert (
        fake.messages_sent(int(ref.thread_id or 0))[0].json["embeds"][0]["description"] == "Q1: x"
    )
    await port.post(f"<#{general.id}>", Outgoing("notice", "by mention"))
    assert h.channel_posts()[-1].json["content"] == "by mention"


async def test_long_texts_are_split_within_discords_limits(harness: Harness) -> None:
    h = harness
    text = "\n".join(f"line {i}: " + "tea " * 40 for i in range(40))  # about 6,800 characters
    ref = await h.adapter.port.post("general", Outgoing("outro", text))
    posts = h.channel_posts()
    assert len(posts) == 4 and all(len(p.json["content"]) <= 2000 for p in posts)
    assert posts[0].response["id"] == ref.message_id
    assert " ".join(p.json["content"] for p in posts).split() == text.split()


async def _chat_with_a_recap(h: Harness) -> tuple[RunRow, Json, PostRow]:
    """A chat with one answer ("A1 jasmine", by alice) run to its recap: the run, the
    answer as sent and the recap's post."""
    await h.start_chat()
    await h.at(5)
    answer = await h.say("general", "alice", "A1 jasmine")
    await h.at(60)
    run = await h.run()
    recap_post = next(p for p in await h.store.posts(run.id or 0) if p.kind == "recap")
    return run, answer, recap_post


async def test_the_recap_is_updated_in_place(harness: Harness) -> None:
    """A late reaction after the recap re-renders it: the headline and its details are edited."""
    h, fake = harness, harness.fake
    run, answer, recap_post = await _chat_with_a_recap(h)

    await h.react(answer, "bob", "👍")  # late, but inside the late window: the recap changes
    edits = await fake.wait_for(("PATCH", "/channels/"), count=2)
    assert edits[0].path == f"/channels/{recap_post.channel_id}/messages/{recap_post.message_id}"
    assert "**1** reactions" in edits[0].json["embeds"][0]["description"]
    assert "jasmine" in edits[1].json["embeds"][0]["description"]  # the Q1 detail, now a highlight

    # Several updates in a row: each edit carries the newest render, none is lost.
    recap = await h.engine.recap(run.id or 0)
    ref = PostedRef(recap_post.channel_id or "", recap_post.message_id or "", None)
    pictures = tuple(recap_pictures(recap))  # the same word cloud: it is left alone
    await h.adapter.port.update(ref, Outgoing("recap", "x", recap=recap, attachments=pictures))
    assert fake.requests[-1].method == "PATCH" and not fake.requests[-1].files


async def test_nothing_new_is_posted_while_stopping(store: Store) -> None:
    async with running_harness(store, tea_plan()) as h:
        await h.adapter.stop()
        with pytest.raises(PortError) as closing:
            await h.adapter.port.post("general", Outgoing("notice", "late"))
        assert closing.value.kind == "closing" and not closing.value.permanent


async def test_recap_details_stay_in_the_channel_when_no_thread_may_be_opened(
    harness: Harness,
) -> None:
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    await h.say("general", "alice", "A1 chai")
    fake.fail_next("POST", "/channels/{c}/messages/{m}/threads", status=403)
    await h.at(60)

    titles = [
        e.get("title", "")
        for r in h.channel_posts()
        for e in r.json.get("embeds") or []
        if e.get("title")
    ]
    assert titles[0] == "Recap: Tea Chat #teachat"
    assert [t[:2] for t in titles[1:]] == ["Q1", "Q2", "Q3"]
    assert len({r.response["id"] for r in h.channel_posts()}) == len(h.channel_posts())
    run = await h.run()
    (recap,) = [p for p in await h.store.posts(run.id or 0) if p.kind == "recap"]
    assert recap.posted_at is not None and recap.error is None
