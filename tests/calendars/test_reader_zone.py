"""Where a platform can show a time in each reader's own zone, the announcement and /chats do,
and /chats offers the calendar to subscribe to."""

from __future__ import annotations

import pytest

from bot.adapters.discord import embeds
from bot.adapters.discord.commands import reply_text as discord_reply
from bot.adapters.slack import blocks
from bot.adapters.slack.blocks import reply_text as slack_reply
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import ChannelRef, Command, User
from bot.core.ports import Outgoing
from bot.core.service import ChatService
from bot.core.store import Store
from tests.conftest import T0
from tests.fakes.port import FakePort
from tests.support import make_plan

STAMP = int(T0.timestamp())


def announcement() -> Outgoing:
    return Outgoing("announce", "Tea chat starts Tue 01 Dec 19:30 UTC.", starts_at=T0)


def test_slack_shows_the_start_in_each_readers_zone() -> None:
    (message,) = blocks.render(announcement())
    text = message.text
    assert text.startswith("Tea chat starts Tue 01 Dec 19:30 UTC.")
    assert f"In your time zone: <!date^{STAMP}^" in text


def test_discord_shows_the_start_in_each_readers_zone() -> None:
    rendered = embeds.render(announcement())
    description = rendered.head[0].embeds[0].description or ""
    assert f"In your time zone: <t:{STAMP}:F> (<t:{STAMP}:R>)" in description


def test_other_posts_carry_no_reader_time() -> None:
    (message,) = blocks.render(Outgoing("intro", "Welcome!"))
    assert "<!date" not in message.text


@pytest.mark.parametrize("public_url", ["https://chats.example.org", None])
async def test_chats_offers_the_calendar_feed(
    store: Store, clock: SimClock, public_url: str | None
) -> None:
    plan = make_plan(platform="slack")
    engine = Engine(plan, store, lambda _: FakePort(), clock, public_url=public_url)
    await engine.start()
    command = Command("slack", ChannelRef("C1", "teachat"), User("U1", "bob"), "chats", clock.now())
    reply = await ChatService(engine).on_command(command)
    feed = "Add them to your calendar: https://chats.example.org/calendar.ics"
    for shown in (reply.text, slack_reply(reply), discord_reply(reply)):
        assert "Upcoming chats:" in shown
        assert (feed in shown) is (public_url is not None)
