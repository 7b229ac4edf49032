"""/forgetme after the recap on Slack: what the channel now shows (the recap's headline, its
details in the thread, the word cloud shared there) no longer names or quotes the person."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.port import SlackPort
from bot.export.pictures import recap_pictures
from tests.fakes import slack_requests as sr
from tests.slack.world import (
    ALICE,
    BOB,
    CHANNEL,
    KATE,
    SlackWorld,
    details_of,
    shares_in,
)

Json = dict[str, Any]


async def chat_to_its_recap(world: SlackWorld) -> Json:
    """alice and bob answer, kate stars alice's answer, the chat ends: the recap's headline."""
    await world.command("startchat", user=KATE)
    await world.at(5)
    starred = await world.say("A1 jasmine pearls, steeped twice", ALICE)
    liked = await world.say("A1 smoky lapsang souchong", BOB)
    for emoji, user, ts in [("star", KATE, starred), ("+1", ALICE, liked)]:
        await world.event(sr.reaction_event(emoji, item_ts=ts, user=user[0], channel=CHANNEL))
    await world.at(20)
    await world.say("A2 jasmine keeps me calm", ALICE)
    await world.at(60)
    return recap_headline(world)


def recap_headline(world: SlackWorld) -> Json:
    [head] = [m for m in world.fake.messages[CHANNEL] if m["text"].startswith("Recap: Tea Chat")]
    return head


async def forget_alice(world: SlackWorld) -> Json:
    await world.at(300)  # hours after the end, well past the late window
    return await world.command("forgetme", user=ALICE)


async def test_forgetme_takes_a_person_out_of_the_posted_recap(world: SlackWorld) -> None:
    head = await chat_to_its_recap(world)
    assert "alice" in json.dumps(details_of(world, head))
    [old_share] = shares_in(world, head)
    [old_file] = old_share["files"]

    answer = await forget_alice(world)
    assert answer["text"].startswith("Deleted 2 of your stored messages")
    assert "took you out of 1 posted recap" in answer["text"]

    head = recap_headline(world)
    shown = json.dumps([head, *details_of(world, head)])
    assert "alice" not in shown and "jasmine" not in shown.lower()
    assert ":star:" not in shown  # her starred answer was the only pick
    assert "bob" in shown  # bob stays, thanked
    assert "*Participants*\\n1" in shown

    # The word cloud: the old file (and its share) deleted, one drawn without her words shared
    # into the same thread.
    assert old_file["id"] not in world.fake.files
    [share] = shares_in(world, head)
    [new_file] = share["files"]
    recap = await world.engine.recap((await world.run()).id or 0)
    assert "jasmine" not in dict(recap.word_weights)
    assert world.fake.uploads[new_file["id"]] == recap_pictures(recap)[0].data


async def test_after_a_restart_forgetme_still_replaces_the_word_cloud(world: SlackWorld) -> None:
    head = await chat_to_its_recap(world)
    [details] = details_of(world, head)
    [old_share] = shares_in(world, head)

    # A new process: a port that never saw the recap being posted.
    old = world.adapter.port
    fresh = SlackPort(old.client, old.queue, old.directory)
    world.engine.port_for = lambda _platform: fresh
    await forget_alice(world)

    assert details_of(world, head) == [details]  # edited in place, not posted again
    assert "alice" not in json.dumps(details)
    [share] = shares_in(world, head)
    assert share["ts"] != old_share["ts"]
    assert old_share["files"][0]["id"] not in world.fake.files
