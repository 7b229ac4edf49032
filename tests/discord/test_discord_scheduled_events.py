"""A chat's guild scheduled event, through real discord.py against the fake Discord's REST
routes (tests/fakes/discord_events.py): what a member sees in the server's event list."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.invite import bot_permissions, invite_url
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.recap import headline_text
from bot.core.service import ChatService
from bot.core.store import Store
from tests.conftest import T0
from tests.discord.harness import MEMBERS, config_for, tea_plan
from tests.fakes.discord_events import ACTIVE, CANCELED, COMPLETED, SCHEDULED, end_of, start_of
from tests.fakes.discord_server import FakeDiscord

EVENTS = "/guilds/{guild_id}/scheduled-events"


class App:
    """One chathost process: the adapter connects first, then the engine ticks."""

    def __init__(self, fake: FakeDiscord, plan: Plan, store: Store, clock: SimClock) -> None:
        self.fake, self.plan, self.store, self.clock = fake, plan, store, clock
        self.adapter = DiscordAdapter(config_for(fake), plan, clock)
        self.engine = Engine(plan, store, lambda _p: self.adapter.port, clock)

    async def start(self) -> App:
        await self.adapter.start(ChatService(self.engine))
        await self.engine.start()
        await self.engine.tick()
        return self

    async def until(self, minutes: float) -> None:
        """Wake the engine at every moment it asks for, up to ``minutes`` after T0."""
        when = T0 + timedelta(minutes=minutes)
        for _ in range(200):
            wake = await self.engine.tick()
            if wake is None or wake > when:
                break
            self.clock.set(max(wake, self.clock.now()))
        self.clock.set(when)
        await self.engine.tick()


@contextlib.asynccontextmanager
async def discord(
    store: Store, *, prepare: Callable[[FakeDiscord], Any] | None = None
) -> AsyncIterator[tuple[FakeDiscord, App]]:
    clock = SimClock(T0 - timedelta(days=2))
    async with FakeDiscord(member_names=MEMBERS, time_source=lambda: clock.now().timestamp()) as f:
        if prepare is not None:
            prepare(f)
        app = await App(f, tea_plan(events=True), store, clock).start()
        try:
            yield f, app
        finally:
            await app.adapter.stop()


async def test_event_created_once_then_active_then_completed(store: Store) -> None:
    async with discord(store) as (fake, app):
        (event,) = fake.scheduled_events.in_guild()
        assert (start_of(event), end_of(event)) == (T0, T0 + timedelta(hours=1))
        assert event["entity_type"] == 3 and event["entity_metadata"] == {"location": "#general"}
        assert event["name"] == "Tea Chat #teachat"
        assert "Q1: What brought you here?" in event["description"]
        assert event["status"] == SCHEDULED
        await app.until(1)
        assert event["status"] == ACTIVE
        fake.scheduled_events.set_interested(event["id"], 23)
        await app.until(61)
        assert event["status"] == COMPLETED
        (run,) = await store.runs_for_chat("tea")
        assert headline_text(await app.engine.recap(run.id or 0)).startswith("23 interested")
        creates = [r for r in fake.requests if r.method == "POST" and "scheduled-events" in r.path]
        assert len(creates) == 1


async def test_extendchat_moves_the_end(store: Store) -> None:
    async with discord(store) as (fake, app):
        await app.until(10)
        (run,) = await store.runs_for_chat("tea")
        assert await app.engine.extend(run, timedelta(minutes=15)) is not None
        await app.engine.tick()
        (event,) = fake.scheduled_events.in_guild()
        assert end_of(event) == T0 + timedelta(minutes=75)
        assert event["status"] == ACTIVE


async def test_restart_between_create_and_start_makes_no_second_event(store: Store) -> None:
    async with discord(store) as (fake, app):
        assert len(fake.scheduled_events.in_guild()) == 1
        await app.adapter.stop()
        second = await App(fake, app.plan, store, app.clock).start()
        try:
            await second.until(1)
            (event,) = fake.scheduled_events.in_guild()
            assert event["status"] == ACTIVE
        finally:
            await second.adapter.stop()


async def test_a_lost_create_answer_is_found_not_duplicated(store: Store) -> None:
    def lose(fake: FakeDiscord) -> None:
        fake.scheduled_events.lose_next_create()

    async with discord(store, prepare=lose) as (fake, app):
        assert [r.status for r in fake.requests if r.method == "POST" and "events" in r.path] == [
            503
        ]
        await app.until(1)  # the retry looks first, and finds it
        (event,) = fake.scheduled_events.in_guild()
        assert event["status"] == ACTIVE


async def test_a_skipped_run_is_cancelled(store: Store) -> None:
    rrule_plan = tea_plan(events=True)
    chat = rrule_plan.chats[0]
    async with discord(store) as (fake, app):
        (event,) = fake.scheduled_events.in_guild()
        skipping = chat.model_copy(
            update={"schedule": chat.schedule.model_copy(update={"skip": [T0.date()]})}
        )
        engine = Engine(
            Plan(timezone=rrule_plan.timezone, chats=[skipping]),
            store,
            lambda _p: app.adapter.port,
            app.clock,
        )
        await engine.start()
        await engine.tick()
        assert event["status"] == CANCELED


async def test_missing_manage_events_is_said_at_start_in_one_line(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with discord(store, prepare=lambda f: f.scheduled_events.deny_manage_events()) as (
        fake,
        _app,
    ):
        lines = [r.getMessage() for r in caplog.records if "Manage Events" in r.getMessage()]
        assert lines == [
            "The bot lacks the Manage Events permission in Test Guild, which chats with "
            "events: true need: grant it to the bot's role (Server Settings > Roles), or invite "
            "it again with the URL from chathost discord-invite."
        ]
        assert fake.scheduled_events.in_guild() == []
        refused = [r for r in fake.requests if "scheduled-events" in r.path]
        assert refused and refused[0].status == 403
        assert refused[0].response == {"message": "Missing Permissions", "code": 50013}


def test_the_invite_asks_for_manage_events_only_when_the_plan_has_events() -> None:
    assert not bot_permissions().manage_events
    assert bot_permissions(events=True).manage_events
    with_events = invite_url("1234567890", events=True)
    assert f"permissions={bot_permissions(events=True).value}" in with_events
