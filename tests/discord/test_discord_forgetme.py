"""/forgetme after the recap on Discord: what the server now shows no longer names or quotes the
person, their highlighted answer is gone, and the word cloud attached in the recap's thread is
replaced by one drawn without their words."""

from __future__ import annotations

import copy
import json
from typing import Any

from bot.adapters.discord.port import DiscordPort
from bot.export.pictures import recap_pictures
from tests.discord.harness import Harness

Json = dict[str, Any]


async def chat_to_its_recap(h: Harness) -> Json:
    """alice and bob answer, kate stars alice's answer, marco likes bob's, the chat ends: the recap's headline
    as the fake Discord stores it."""
    await h.start_chat()
    await h.at(5)
    q1_thread = int(h.questions_posted()[0].response["id"])
    starred = await h.say(q1_thread, "alice", "Jasmine pearls, steeped twice")
    liked = await h.say("general", "bob", "A1 smoky lapsang souchong")
    await h.react(starred, "kate", "⭐")
    await h.react(liked, "marco", "👍")
    await h.at(20)
    await h.say("general", "alice", "A2 jasmine keeps me calm")
    await h.at(60)
    return recap_headline(h)


def recap_headline(h: Harness) -> Json:
    [head] = [
        m
        for m in h.fake.messages.values()
        if m["embeds"] and m["embeds"][0].get("title", "").startswith("Recap")
    ]
    return head


def shown_in_thread(h: Harness, thread_id: int) -> list[Json]:
    """The messages now in the recap's details thread, oldest first."""
    here = [m for m in h.fake.messages.values() if m["channel_id"] == str(thread_id)]
    return sorted(here, key=lambda m: int(m["id"]))


async def forget_alice(h: Harness) -> str:
    await h.at(240)  # hours after the end, well past the late window
    reply = await h.command("forgetme", "alice")
    return str(reply.json["data"]["content"])


async def test_forgetme_takes_a_person_out_of_the_posted_recap(harness: Harness) -> None:
    h = harness
    head = await chat_to_its_recap(h)
    thread = int(head["id"])  # the details thread was opened from the headline
    before = json.dumps(shown_in_thread(h, thread))
    assert "**2** participants" in head["embeds"][0]["description"]
    assert "alice" in before and "Jasmine pearls" in before
    [cloud] = [copy.deepcopy(m) for m in shown_in_thread(h, thread) if m["attachments"]]
    first_png = next(r for r in h.fake.messages_sent(thread) if r.files).files[0][1]

    reply = await forget_alice(h)
    assert reply.startswith("Deleted 2 of your stored messages")
    assert "took you out of 1 posted recap" in reply

    head = recap_headline(h)
    assert "**1** participant" in head["embeds"][0]["description"]
    assert "alice" not in json.dumps(head)
    now = shown_in_thread(h, thread)
    shown = json.dumps(now)
    assert "alice" not in shown and "Jasmine" not in shown and "jasmine" not in shown
    assert "⭐" not in shown  # her starred answer was the only pick
    assert "lapsang" in shown  # bob's answer stays, a highlight by its reaction

    # The word cloud: the same message, its picture replaced by one drawn without her words.
    [still] = [m for m in now if m["attachments"]]
    assert still["id"] == cloud["id"] and still["attachments"] != cloud["attachments"]
    [edit] = [r for r in h.fake.requests if r.method == "PATCH" and r.files]
    assert edit.path == f"/channels/{thread}/messages/{cloud['id']}"
    recap = await h.engine.recap((await h.run()).id or 0)
    assert "jasmine" not in dict(recap.word_weights)
    assert edit.files == [("wordcloud.png", recap_pictures(recap)[0].data)]
    assert edit.files[0][1] != first_png


async def test_after_a_restart_forgetme_still_replaces_the_word_cloud(harness: Harness) -> None:
    h = harness
    head = await chat_to_its_recap(h)
    thread = int(head["id"])
    [cloud] = [copy.deepcopy(m) for m in shown_in_thread(h, thread) if m["attachments"]]

    # A new process: a port that never saw the recap being posted.
    fresh = DiscordPort(h.adapter.port.client, h.adapter.port.guild_ids)
    h.engine.port_for = lambda _platform: fresh
    await forget_alice(h)

    now = shown_in_thread(h, thread)
    assert "alice" not in json.dumps(now)
    [still] = [m for m in now if m["attachments"]]
    assert still["id"] == cloud["id"] and still["attachments"] != cloud["attachments"]
    assert len(h.fake.messages_sent(thread)) == len(now)  # nothing posted a second time
