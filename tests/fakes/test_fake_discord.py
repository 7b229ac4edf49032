"""Prove FakeDiscord works with the REAL discord.py (2.7): gateway, REST, interactions, threads.

Each test starts a real client against the fake and awaits real discord.py events; nothing in
discord.py is mocked. ``guild_ready_timeout`` is set tiny so ``on_ready`` fires right after the
GUILD_CREATEs instead of 2 s later.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from .discord_server import FakeDiscord

TOKEN = "fake-token"
FAST = {"guild_ready_timeout": 0.05}  # default 2.0 s wait after the last GUILD_CREATE


def intents() -> discord.Intents:
    it = discord.Intents.default()
    it.message_content = it.members = it.guilds = it.reactions = True
    return it


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        yield f


@contextlib.asynccontextmanager
async def running(client: discord.Client, timeout: float = 3.0) -> AsyncIterator[discord.Client]:
    """login + connect in a task; yield once on_ready fired; always close and reap the task."""
    await client.login(TOKEN)
    ready = asyncio.ensure_future(client.wait_until_ready())
    conn = asyncio.ensure_future(client.connect())
    try:
        done, _ = await asyncio.wait({ready, conn}, timeout=timeout, return_when="FIRST_COMPLETED")
        if conn in done:
            conn.result()  # raise the connection error
        assert ready in done, "on_ready did not fire in time"
        yield client
    finally:
        ready.cancel()
        await client.close()
        await asyncio.wait_for(conn, timeout=5)


def expect(
    client: discord.Client, event: str, check: Any = None, timeout: float = 3.0
) -> asyncio.Future[Any]:
    """Start waiting for a discord.py event *before* triggering it (no race, no sleep)."""
    return asyncio.ensure_future(client.wait_for(event, check=check, timeout=timeout))


def from_user(name: str) -> Any:
    return lambda m: m.author.name == name


@pytest.mark.asyncio
async def test_client_ready_messages_reactions_edits_deletes(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents(), **FAST)
    started = time.monotonic()
    async with running(client):
        assert time.monotonic() - started < 3
        guild = client.get_guild(fake.guild.id)
        assert guild is not None and guild.chunked and guild.me is not None
        assert {m.name for m in guild.members} == {"chathost", "alice", "bob"}
        general = guild.get_channel(fake.channel("general").id)
        assert isinstance(general, discord.TextChannel)
        assert client.application_id == fake.application_id

        # A user message reaches on_message with content and author.
        got = expect(client, "message", from_user("alice"))
        sent = await fake.user_says("general", "alice", "hello bot")
        message: discord.Message = await got
        assert (message.content, message.author.name, message.channel) == (
            "hello bot",
            "alice",
            general,
        )
        assert isinstance(message.author, discord.Member)
        assert message.id == int(sent["id"])

        # channel.send with an embed is recorded (and echoed back, like Discord does).
        echo = expect(client, "message", lambda m: m.author == client.user)
        mine = await general.send("hi", embed=discord.Embed(title="Q1", description="topic"))
        assert (await echo).id == mine.id
        (rec,) = fake.messages_sent(general.id)
        assert rec.json["content"] == "hi" and rec.json["embeds"][0]["title"] == "Q1"
        assert rec.headers["Authorization"] == f"Bot {TOKEN}"

        # Attachments go multipart with payload_json.
        await general.send("file", file=discord.File(io.BytesIO(b"data"), "notes.txt"))
        last = fake.messages_sent(general.id)[-1]
        assert last.json["content"] == "file" and last.files == [("notes.txt", b"data")]

        # Reactions: user reaction event and the bot's own reaction REST call.
        raw_add = expect(client, "raw_reaction_add", lambda p: p.user_id == fake.user("bob").id)
        await fake.user_reacts(message.id, "bob", "👍")
        payload = await raw_add
        assert (payload.message_id, str(payload.emoji)) == (message.id, "👍")
        await message.add_reaction("✅")
        await fake.wait_for(
            ("PUT", f"/channels/{general.id}/messages/{message.id}/reactions/✅/@me")
        )

        # Edits and deletes reach the raw handlers.
        edited = expect(client, "raw_message_edit", lambda p: p.message_id == message.id)
        await fake.user_edits(message.id, "hello again")
        assert (await edited).message.content == "hello again"
        deleted = expect(client, "raw_message_delete", lambda p: p.message_id == message.id)
        await fake.user_deletes(message.id)
        assert (await deleted).channel_id == general.id

        # DMs: create_dm + send.
        alice = guild.get_member(fake.user("alice").id)
        assert alice is not None
        await alice.send("psst")
        await fake.wait_for(("POST", "/users/@me/channels"))
        assert any(r.json["content"] == "psst" for r in fake.messages_sent())
    assert fake.requests[0].path == "/users/@me"


@pytest.mark.asyncio
async def test_slash_commands_respond_defer_and_follow_up(fake: FakeDiscord) -> None:
    bot = commands.Bot(command_prefix="!", intents=intents(), **FAST)
    guild = discord.Object(id=fake.guild.id)
    ran: list[str] = []

    @bot.tree.command(name="ping", description="Ping", guild=guild)
    async def ping(interaction: discord.Interaction) -> None:
        ran.append(f"ping by {interaction.user.name} in {interaction.channel}")
        await interaction.response.send_message("ok", ephemeral=True)

    @bot.tree.command(name="topic", description="Set topic", guild=guild)
    @app_commands.describe(text="the topic")
    async def topic(interaction: discord.Interaction, text: str, rounds: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"topic {text} x{rounds}")

    async with running(bot):
        synced = await bot.tree.sync(guild=guild)
        assert {c.name for c in synced} == {"ping", "topic"} and all(c.id for c in synced)
        (put,) = await fake.wait_for(("PUT", f"/applications/{fake.application_id}/guilds/"))
        assert {c["name"] for c in put.json} == {"ping", "topic"}

        inter = await fake.invoke_command("ping", user="alice", channel="general")
        (cb,) = await fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
        assert cb.json == {"type": 4, "data": cb.json["data"]}
        assert cb.json["data"]["content"] == "ok" and cb.json["data"]["flags"] == 64
        assert cb.query["with_response"] == "1" and cb.status == 200
        assert ran == ["ping by alice in general"]

        inter = await fake.invoke_command(
            "topic", {"text": "cats", "rounds": 3}, user="bob", channel="general"
        )
        (follow,) = await fake.wait_for(
            ("POST", f"/webhooks/{fake.application_id}/{inter['token']}")
        )
        assert follow.json["content"] == "topic cats x3"
        kinds = [r.json["type"] for r in fake.interaction_responses() if "/callback" in r.path]
        assert kinds == [4, 5]


@pytest.mark.asyncio
async def test_thread_from_message_and_send_into_it(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents(), **FAST)
    async with running(client):
        got = expect(client, "message", from_user("alice"))
        await fake.user_says("chats", "alice", "Q1: what is your favourite tool?")
        message: discord.Message = await got

        created = expect(client, "thread_create")
        thread = await message.create_thread(name="Q1 answers")
        assert (thread.id, thread.parent_id, thread.name) == (
            message.id,
            message.channel.id,
            "Q1 answers",
        )
        assert (await created).id == thread.id
        assert client.get_channel(thread.id) is not None  # cached from THREAD_CREATE

        await thread.send("Answer here")
        (rec,) = fake.messages_sent(thread.id)
        assert rec.json["content"] == "Answer here"

        # A user message inside the thread resolves to the Thread channel.
        got = expect(client, "message", from_user("bob"))
        await fake.user_says(thread.id, "bob", "vim")
        assert isinstance((await got).channel, discord.Thread)

        plain = await message.channel.create_thread(
            name="side", type=discord.ChannelType.public_thread
        )
        assert plain.parent_id == message.channel.id and plain.id != thread.id


@pytest.mark.asyncio
async def test_rate_limit_is_waited_out_and_message_lands_once(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents(), **FAST)
    async with running(client):
        channel = client.get_channel(fake.channel("general").id)
        assert isinstance(channel, discord.TextChannel)
        fake.fail_next("POST", "/channels/{id}/messages", times=1, retry_after=0.3)
        started = time.monotonic()
        await channel.send("after limit")
        assert time.monotonic() - started >= 0.3
        assert [r.json["content"] for r in fake.messages_sent()] == ["after limit"]
        (limited,) = fake.rate_limited
        assert limited.response["retry_after"] == 0.3


@pytest.mark.asyncio
async def test_a_lost_answer_lands_and_a_resend_with_its_nonce_gets_the_same_message(
    fake: FakeDiscord,
) -> None:
    client = discord.Client(intents=intents(), **FAST)
    async with running(client):
        channel = client.get_channel(fake.channel("general").id)
        assert isinstance(channel, discord.TextChannel)
        fake.lose_next_answer("POST", "/channels/{id}/messages")
        with pytest.raises(discord.DiscordServerError):  # 503: discord.py does not retry it
            await channel.send("landed unheard", nonce="n-1")  # sent with enforce_nonce
        [landed] = [m for m in fake.messages.values() if m["content"] == "landed unheard"]
        again = await channel.send("landed unheard", nonce="n-1")
        assert str(again.id) == landed["id"]
        assert [m["content"] for m in fake.messages.values()] == ["landed unheard"]
        assert [r.status for r in fake.requests if r.method == "POST"][-2:] == [503, 200]


@pytest.mark.asyncio
async def test_auto_sharded_client_connects() -> None:
    class Sharded(discord.AutoShardedClient):
        async def before_identify_hook(
            self, shard_id: int | None, *, initial: bool = False
        ) -> None:
            """The default sleeps 5 s before every IDENTIFY but the first."""

    async with FakeDiscord(shard_count=2) as fake:
        other = fake.add_guild("Other", ("lobby",), ("carol",))
        client = Sharded(intents=intents(), **FAST)
        async with running(client):
            await fake.wait_for(("GET", "/gateway/bot"))
            assert sorted(f["d"]["shard"] for f in fake.gateway_ops(2)) == [[0, 2], [1, 2]]
            assert client.shard_count == 2
            assert {g.id for g in client.guilds} == {fake.guild.id, other.id}
            got = expect(client, "message")
            await fake.user_says("lobby", "carol", "hi from the other guild")
            assert (await got).guild.id == other.id


@pytest.mark.asyncio
async def test_resume_after_dropped_connection(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents(), **FAST)
    async with running(client):
        resumed = expect(client, "resumed")
        await fake.drop_connections()
        # Sent while the socket is down: buffered and replayed on RESUME.
        got = expect(client, "message", from_user("alice"))
        await fake.user_says("general", "alice", "during the blip")
        await resumed
        assert (await got).content == "during the blip"
        (resume,) = fake.gateway_ops(6)
        assert len(fake.gateway_ops(2)) == 1 and resume["d"]["token"] == TOKEN

        # op 7 RECONNECT + forced replay of the last event = a duplicate MESSAGE_CREATE.
        seen: list[int] = []
        twice = expect(client, "message", lambda m: seen.append(m.id) or len(seen) == 2)
        resumed = expect(client, "resumed")
        sent = await fake.user_says("general", "alice", "delivered twice")
        await fake.drop_connections(reconnect_op=True, replay_last=1)
        await resumed
        await twice
        assert seen == [int(sent["id"])] * 2
