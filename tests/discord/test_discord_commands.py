"""Slash commands: answered or deferred within Discord's 3 s, arguments mapped for the core."""

from __future__ import annotations

import re

from bot.core.commands import COMMANDS, ArgKind, CommandSpec, command_named
from bot.core.store import Store
from tests.discord.harness import EPHEMERAL, Harness, running_harness


async def test_slow_work_is_deferred_then_followed_up(store: Store) -> None:
    # A zero budget makes every command take the slow path: defer first, answer after.
    async with running_harness(store, ack_budget=0.0) as h:
        fake = h.fake
        inter = await fake.invoke_command("startchat", user="kate", channel="general")
        (callback,) = await fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
        assert callback.json["type"] == 5  # deferred "thinking..."
        assert callback.json["data"]["flags"] == EPHEMERAL
        (follow,) = await fake.wait_for(
            ("POST", f"/webhooks/{fake.application_id}/{inter['token']}")
        )
        assert follow.json["content"].startswith("Started Tea Chat")
        assert follow.json["flags"] == EPHEMERAL


async def test_chats_lists_upcoming_chats_in_each_readers_time(harness: Harness) -> None:
    reply = await harness.command("chats", "alice")
    content = reply.json["data"]["content"]
    stamp = int(harness.plan.chats[0].schedule.start.timestamp())  # type: ignore[union-attr]
    assert f"**Tea Chat** (`tea`): <t:{stamp}:F> (<t:{stamp}:R>)" in content
    assert re.search(r"\d{2}:\d{2} UTC", content) is None  # no server-side time zone


async def test_extend_status_quiet_and_forget(harness: Harness) -> None:
    h = harness
    await h.start_chat()
    extended = await h.command("extendchat", "kate", {"duration": "15"})  # bare number: minutes
    assert extended.json["data"]["content"].startswith("Extended by 15m")
    extended = await h.command("extendchat", "kate", {"duration": "1h", "chat": "tea"})
    assert extended.json["data"]["content"].startswith("Extended by 1h")
    status = await h.command("chatstatus", "alice")
    assert status.json["data"]["content"].startswith("Tea Chat: running")

    quiet = await h.command("quietchat", "alice")
    assert quiet.json["data"]["content"].startswith("Done: chathost will not nudge you")
    assert await h.store.quiet_users("discord") == {str(h.fake.user("alice").id)}
    loud = await h.command("quietchat", "alice", {"undo": True})
    assert loud.json["data"]["content"] == "Nudges are back on for you."

    await h.at(5)
    await h.say("general", "alice", "A1 forget this")
    forgot = await h.command("forgetme", "alice")
    assert forgot.json["data"]["content"].startswith("Deleted 1 of your stored messages")
    assert await h.store.run_messages((await h.run()).id or 0) == []


async def test_commands_in_a_question_thread_find_the_chat(harness: Harness) -> None:
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    thread = int(h.questions_posted()[0].response["id"])
    inter = await fake.invoke_command("nextq", user="kate", channel=thread)
    (callback,) = await fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
    assert callback.json["data"]["content"] == "Posted Q2."


async def test_chat_ids_autocomplete(harness: Harness) -> None:
    fake = harness.fake
    payload = fake.interaction_payload(
        "startchat",
        [{"name": "chat", "type": 3, "value": "te", "focused": True}],
        user="kate",
        channel_id="general",
    )
    payload["type"] = 4  # APPLICATION_COMMAND_AUTOCOMPLETE
    await fake.dispatch("INTERACTION_CREATE", payload)
    (callback,) = await fake.wait_for(("POST", f"/interactions/{payload['id']}/"))
    assert callback.json == {
        "type": 8,
        "data": {"choices": [{"name": "Tea Chat (tea)", "value": "tea"}]},
    }


async def test_hosts_pick_answers_for_the_recap_from_the_apps_menu(harness: Harness) -> None:
    h, fake = harness, harness.fake
    await h.start_chat()
    await h.at(5)
    thread = int(h.questions_posted()[0].response["id"])
    answer = await h.say(thread, "alice", "Tea brought me here, and the people")

    async def menu(user: str) -> str:
        inter = await fake.invoke_message_command(
            "Highlight in recap", answer["id"], user=user, channel=thread
        )
        (callback,) = await fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
        assert callback.json["data"]["flags"] & 64  # ephemeral: only the caller sees it
        return str(callback.json["data"]["content"])

    assert (await menu("bob")).startswith("Only the hosts")
    assert await menu("kate") == "Highlighted: it will be in the recap."
    link = (
        f"https://discord.com/channels/{fake.channel('general').guild_id}/{thread}/{answer['id']}"
    )
    undo = await h.command("highlight", "kate", {"message": link})
    assert undo.json["data"]["content"] == "Highlight removed."
    assert await menu("kate") == "Highlighted: it will be in the recap."

    await h.at(60)
    head = next(
        r
        for r in h.channel_posts()
        if r.json.get("embeds") and r.json["embeds"][0].get("title", "").startswith("Recap")
    )
    sent = fake.messages_sent(int(head.response["id"]))  # the word cloud comes without embeds
    [q1, *_] = [e for r in sent for e in r.json.get("embeds", [])]
    assert "Tea brought me here" in q1["description"]
    assert "**alice** (⭐ host pick, 0 reactions)" in q1["description"]


async def test_the_synced_tree_is_the_core_command_table(harness: Harness) -> None:
    """What Discord shows people is generated from the table: each command with its help
    line, who may use it, and its typed options (a chat id completed from the plan), and the
    message menu entry."""
    synced = harness.fake.guild_commands[harness.fake.guild.id]
    slash = [c for c in synced if c["type"] == 1]
    option_types = {ArgKind.SWITCH: 5}  # boolean; every other kind is a string (3)

    def options(spec: CommandSpec) -> list[dict[str, object]]:
        declared = [
            {
                "name": a.name,
                "type": option_types.get(a.kind, 3),
                "description": a.help,
                "required": a.required,
                "autocomplete": a.kind is ArgKind.CHAT,
            }
            for a in spec.args
        ]
        return sorted(declared, key=lambda o: not o["required"])

    assert sorted(c["name"] for c in slash) == sorted(s.name for s in COMMANDS)
    for command in slash:
        spec = command_named(command["name"])
        assert spec is not None
        assert command["description"] == spec.description
        got = [
            {
                k: o.get(k, False)
                for k in ("name", "type", "description", "required", "autocomplete")
            }
            for o in command.get("options", [])
        ]
        assert got == options(spec), spec.name
    extend = next(c for c in slash if c["name"] == "extendchat")
    assert extend["description"].endswith("(hosts)")
    menus = [(c["name"], c["type"]) for c in synced if c["type"] != 1]
    assert menus == [(s.menu, 3) for s in COMMANDS if s.menu] == [("Highlight in recap", 3)]


def test_chatstatus_shows_each_open_question_closing_in_the_readers_zone() -> None:
    from datetime import UTC, datetime

    from bot.adapters.discord.commands import reply_text
    from bot.core.events import CommandReply, Deadline

    closes = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)
    reply = CommandReply(True, "Slow Tea: running", deadlines=(Deadline("Q1", closes),))
    assert reply_text(reply).splitlines()[1] == f"Q1 closes <t:{int(closes.timestamp())}:F>"
