"""Setting the bot up: the invite URL, DISCORD_* configuration, start-up failures, sharding."""

from __future__ import annotations

import asyncio
import base64
import io
from urllib.parse import parse_qs, urlparse

import discord
import discord.http
import pytest
from pydantic import SecretStr

from bot.adapters.discord import (
    ConfigError,
    DiscordAdapter,
    DiscordConfig,
    DiscordStartError,
    DiscordTokenRefused,
    build_discord_adapter,
)
from bot.adapters.discord.invite import invite_command
from bot.adapters.discord.translate import has_role
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.errors import ExitCode, PlatformUnreachable
from bot.core.service import ChatService
from bot.core.store import Store
from bot.settings import Settings
from tests.conftest import T0
from tests.discord.harness import config_for, running_harness, tea_plan
from tests.fakes.discord_server import FakeDiscord

# View Channels, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links,
# Attach Files, Read Message History, Add Reactions.
PERMISSIONS = (
    (1 << 10) | (1 << 11) | (1 << 38) | (1 << 35) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6)
)


def settings(token: str | None = None) -> Settings:
    return Settings(_env_file=None, discord_token=SecretStr(token) if token else None)  # type: ignore[call-arg]


def invite(client_id: str | None, token: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = invite_command(settings(token), client_id, out=out, err=err)
    return code, out.getvalue().strip(), err.getvalue()


def test_invite_url_has_client_id_scopes_and_permissions(monkeypatch) -> None:
    monkeypatch.delenv("DISCORD_CLIENT_ID", raising=False)
    code, url, _ = invite("1234567890")
    assert code == 0
    query = parse_qs(urlparse(url).query)
    assert urlparse(url).netloc == "discord.com"
    assert query["client_id"] == ["1234567890"]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(PERMISSIONS)]


def test_invite_client_id_from_env_or_token_else_exit_2(monkeypatch) -> None:
    monkeypatch.setenv("DISCORD_CLIENT_ID", "555")
    assert "client_id=555" in invite(None)[1]
    monkeypatch.delenv("DISCORD_CLIENT_ID")
    token = base64.b64encode(b"777000111").decode().rstrip("=") + ".GhIjKl.secretpart"
    assert "client_id=777000111" in invite(None, token)[1]
    code, url, err = invite(None)
    assert (code, url) == (2, "") and "DISCORD_CLIENT_ID" in err
    assert invite("not-a-number")[0] == 2


def test_config_from_settings_and_environment(monkeypatch) -> None:
    monkeypatch.setenv("DISCORD_GUILD_IDS", "111, 222")
    monkeypatch.setenv("DISCORD_HOST_ROLE", "Chat Hosts, 333")
    monkeypatch.setenv("DISCORD_SHARDS", "auto")
    config = DiscordConfig.from_settings(settings("tok"))
    assert config.guild_ids == (111, 222)
    assert config.host_roles == ("Chat Hosts", "333")
    assert config.shards == "auto"
    assert config.api_url is None
    proxied = Settings(
        _env_file=None, discord_token=SecretStr("tok"), discord_api_url="http://nirn:8080/"
    )  # type: ignore[call-arg]
    assert DiscordConfig.from_settings(proxied).api_url == "http://nirn:8080/api/v10"

    monkeypatch.setenv("DISCORD_GUILD_IDS", "general")
    with pytest.raises(ConfigError, match="DISCORD_GUILD_IDS: 'general' is not a Discord id"):
        build_discord_adapter(settings("tok"), tea_plan(), SimClock(T0))
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        DiscordConfig.from_settings(settings(None))


def test_build_discord_adapter_is_an_adapter(monkeypatch) -> None:
    monkeypatch.delenv("DISCORD_GUILD_IDS", raising=False)
    adapter = build_discord_adapter(settings("tok"), tea_plan(), SimClock(T0))
    assert isinstance(adapter, DiscordAdapter) and adapter.platform == "discord"
    assert adapter.port is adapter.port
    assert adapter.client.intents.message_content and not adapter.client.intents.members


async def test_sharded_client_connects_and_records(store: Store) -> None:
    async with running_harness(store, shards="auto") as h:
        assert isinstance(h.adapter.client, discord.AutoShardedClient)
        await h.fake.wait_for(("GET", "/gateway/bot"))  # sharded clients ask for the count
        await h.start_chat()
        await h.at(5)
        await h.say("general", "alice", "A1 sharded tea")
        (stored,) = await h.store.run_messages((await h.run()).id or 0)
        assert stored.question_id == "Q1"


async def start_against(fake: FakeDiscord, store: Store) -> None:
    clock = SimClock(T0)
    plan = tea_plan()
    adapter = DiscordAdapter(config_for(fake), plan, clock)
    engine = Engine(plan, store, lambda _p: adapter.port, clock)
    await adapter.start(ChatService(engine))


async def test_missing_message_content_intent_is_explained(store: Store) -> None:
    async with FakeDiscord() as fake:
        fake.identify_close_code = 4014
        with pytest.raises(DiscordStartError, match="MESSAGE CONTENT INTENT"):
            await start_against(fake, store)


async def test_a_bad_token_is_explained(store: Store) -> None:
    async with FakeDiscord() as fake:
        fake.fail_next("GET", "/users/@me", status=401)
        with pytest.raises(DiscordStartError, match="DISCORD_TOKEN"):
            await start_against(fake, store)


def hosts_role(fake: FakeDiscord) -> None:
    fake.add_role(fake.guild, "Chat Hosts", ("alice",))


async def test_members_holding_the_host_role_are_recognised(store: Store) -> None:
    async with running_harness(store, prepare=hosts_role, host_roles=("chat hosts",)) as h:
        guild = h.adapter.client.get_guild(h.fake.guild.id)
        assert guild is not None
        alice = await guild.fetch_member(h.fake.user("alice").id)
        bob = await guild.fetch_member(h.fake.user("bob").id)
        assert has_role(alice, ("chat hosts",)) and not has_role(bob, ("chat hosts",))
        role_id = h.fake.guild.roles[-1]["id"]
        assert has_role(alice, (role_id,))  # by id as well


async def test_a_host_role_member_may_run_host_commands(store: Store) -> None:
    async with running_harness(store, prepare=hosts_role, host_roles=("Chat Hosts",)) as h:
        await h.start_chat("kate")
        reply = await h.command("nextq", "alice")
        assert reply.json["data"]["content"] == "Posted Q1."


async def test_a_role_the_plan_names_makes_its_members_hosts_of_that_chat(store: Store) -> None:
    plan = tea_plan(hosts=["kate", "role:Chat Hosts"])  # no DISCORD_HOST_ROLE
    async with running_harness(store, plan, prepare=hosts_role) as h:
        await h.start_chat("kate")
        refused = await h.command("nextq", "bob")
        assert "Only the hosts" in refused.json["data"]["content"]
        reply = await h.command("nextq", "alice")  # alice holds Chat Hosts
        assert reply.json["data"]["content"] == "Posted Q1."
        await h.say("general", "alice", "Welcome, everyone!")
        await h.say("general", "bob", "A1 hello")
        stored = await h.store.run_messages((await h.run()).id or 0)
        assert [(m.user_name, m.kind) for m in stored] == [("alice", "host"), ("bob", "answer")]


async def test_start_up_warns_about_a_channel_the_plan_names_but_discord_lacks(
    store: Store, caplog
) -> None:
    async with running_harness(store, tea_plan(channel="dev-chat")):
        pass
    assert "chat tea: no channel named #dev-chat in Test Guild" in caplog.text


async def test_a_refused_token_is_a_settings_error(store: Store) -> None:
    async with FakeDiscord() as fake:
        fake.fail_next("GET", "/users/@me", status=401)
        with pytest.raises(DiscordTokenRefused) as refused:
            await start_against(fake, store)
    assert refused.value.exit_code == ExitCode.BAD_SETTINGS


async def test_an_api_that_never_answers_ends_the_start_in_bounded_time(store: Store) -> None:
    """A host that accepts the connection and says nothing (a proxy hung, a firewall that
    drops): the start gives up after ``ready_timeout`` naming Discord and the URL."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v10"
    clock = SimClock(T0)
    plan = tea_plan()
    config = DiscordConfig(token="t", api_url=url, ready_timeout=0.5)
    adapter = DiscordAdapter(config, plan, clock)
    engine = Engine(plan, store, lambda _p: adapter.port, clock)
    try:
        with pytest.raises(PlatformUnreachable, match=f"cannot reach discord at {url}: no answer"):
            await adapter.start(ChatService(engine))
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert accepted  # it did connect, and was not left waiting
    assert discord.http.Route.BASE == "https://discord.com/api/v10"  # put back for the next
