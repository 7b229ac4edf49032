"""Test harness: a real core (SQLite store, engine, service) + the Discord adapter + the local fake Discord.

Everything goes through real discord.py: the fake's gateway delivers events over a websocket,
REST calls land in the fake. Time is a SimClock that the fake's snowflakes follow too, so a
message's ``created_at`` is simulated time like the engine's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.discord import DiscordAdapter, DiscordConfig
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.service import ChatService
from bot.core.store import RunRow, Store
from bot.export.pictures import recap_pictures
from tests.conftest import T0
from tests.fakes.discord_server import FakeDiscord, Rec
from tests.support import make_plan

Json = dict[str, Any]
EPHEMERAL = 1 << 6  # the interaction response flag for "only you can see this"
MEMBERS = ("kate", "marco", "alice", "bob")


@dataclass
class Harness:
    fake: FakeDiscord
    adapter: DiscordAdapter
    engine: Engine
    service: ChatService
    store: Store
    clock: SimClock
    plan: Plan
    started: datetime | None = None

    async def say(self, channel: Any, user: str, text: str, **kw: Any) -> Json:
        """A user posts; returns once the adapter has handled the message."""
        sent = await self.fake.user_says(channel, user, text, **kw)
        await self.adapter.journal.wait_for("message", sent["id"])
        return sent

    async def edit(self, message: Json, text: str) -> None:
        await self.fake.user_edits(message["id"], text)
        await self.adapter.journal.wait_for("edit", message["id"])

    async def delete(self, message: Json) -> None:
        await self.fake.user_deletes(message["id"])
        await self.adapter.journal.wait_for("delete", message["id"])

    async def react(self, message: Json, user: str, emoji: str, *, remove: bool = False) -> None:
        before = len(self.adapter.journal.matching("reaction", message["id"]))
        await self.fake.user_reacts(message["id"], user, emoji, remove=remove)
        await self.adapter.journal.wait_for("reaction", message["id"], count=before + 1)

    async def command(self, name: str, user: str, options: Json | None = None) -> Rec:
        """Run a slash command in #general; the first interaction response (callback)."""
        inter = await self.fake.invoke_command(name, options, user=user, channel="general")
        (callback,) = await self.fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
        return callback

    async def start_chat(self, user: str = "kate") -> Rec:
        reply = await self.command("startchat", user)
        self.started = self.clock.now()
        return reply

    async def at(self, minutes: float) -> None:
        """Move the clock to ``minutes`` after the chat started and let the engine act."""
        assert self.started is not None, "start the chat first"
        self.clock.set(self.started + timedelta(minutes=minutes))
        await self.engine.tick()

    async def run(self) -> RunRow:
        (run,) = await self.store.runs_for_chat("tea")
        return run

    async def restart(self) -> None:
        """The process dies and starts again: a new client (a new gateway session), engine and
        service on the same store and the same Discord (which keeps everything it was sent)."""
        config = self.adapter.config
        await self.adapter.stop()
        self.adapter, self.engine, self.service = await _start_app(
            config, self.plan, self.store, self.clock
        )

    def channel_posts(self, channel: str = "general") -> list[Rec]:
        return self.fake.messages_sent(self.fake.channel(channel).id)

    def questions_posted(self) -> list[Rec]:
        return [
            r
            for r in self.fake.messages_sent()
            if r.json.get("embeds")
            and (r.json["embeds"][0].get("description") or "").startswith(("Q1", "Q2", "Q3"))
        ]

    def threads_created(self) -> list[Rec]:
        return [r for r in self.fake.requests if r.method == "POST" and r.path.endswith("/threads")]


def config_for(fake: FakeDiscord, **changes: Any) -> DiscordConfig:
    config = DiscordConfig(
        token="fake-token",
        api_url=fake.api_base,
        guild_ids=(fake.guild.id,),
        guild_ready_timeout=0.05,  # on_ready right after GUILD_CREATE instead of 2 s later
        ready_timeout=5.0,
        stop_timeout=2.0,
    )
    return replace(config, **changes)


def tea_plan(channel: str = "general", **overrides: Any) -> Plan:
    """tests.support's Tea Chat (hosts kate, cohost marco) in #general, a thread per question."""
    return make_plan(platform="discord", channel=channel, threads="per-question", **overrides)


async def _start_app(
    config: DiscordConfig, plan: Plan, store: Store, clock: SimClock
) -> tuple[DiscordAdapter, Engine, ChatService]:
    """One chathost process for Discord: its adapter (connected), engine and service."""
    adapter = DiscordAdapter(config, plan, clock)
    engine = Engine(plan, store, lambda _platform: adapter.port, clock, illustrate=recap_pictures)
    service = ChatService(engine)
    await engine.start()
    await engine.tick()  # creates the run: its start is within the engine's lead
    await adapter.start(service)
    return adapter, engine, service


@contextlib.asynccontextmanager
async def running_harness(
    store: Store,
    plan: Plan | None = None,
    *,
    fake_shards: int = 1,
    prepare: Callable[[FakeDiscord], object] | None = None,
    clock: SimClock | None = None,
    **config: Any,
) -> AsyncIterator[Harness]:
    """Fake Discord up, core built, adapter started; torn down in the right order (the client
    closes before the fake stops). ``clock`` starts ten minutes before T0 unless given."""
    clock = clock or SimClock(T0 - timedelta(minutes=10))
    async with FakeDiscord(
        member_names=MEMBERS,
        time_source=lambda: clock.now().timestamp(),
        shard_count=fake_shards,
    ) as fake:
        if prepare is not None:
            prepare(fake)  # e.g. roles: the guild is sent as it is when the client connects
        chat_plan = plan or tea_plan()
        adapter, engine, service = await _start_app(
            config_for(fake, **config), chat_plan, store, clock
        )
        harness = Harness(fake, adapter, engine, service, store, clock, chat_plan)
        try:
            yield harness
        finally:
            await harness.adapter.stop()
