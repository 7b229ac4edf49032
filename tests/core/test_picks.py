"""Host picks (/highlight) are stored as picks: per host, taken back by the same host, and
gone with /forgetme, whether the person picked the answer or wrote it."""

from __future__ import annotations

import pytest

from bot.core.clock import SimClock
from bot.core.store import Store
from tests.core.test_engine import Harness


@pytest.fixture
async def h(store: Store, clock: SimClock) -> Harness:
    return await Harness(store, clock).start()


async def picked(h: Harness) -> tuple[str, ...]:
    return (await h.recap()).questions[0].host_picks


async def test_each_host_picks_and_takes_back_their_own(h: Harness) -> None:
    await h.say("A1 worth keeping", 6, message_id="m1", user="alice")
    assert await h.command("highlight", "kate", "m1") == "Highlighted: it will be in the recap."
    assert await h.command("highlight", "marco", "m1") == "Highlighted: it will be in the recap."
    assert await h.command("highlight", "kate", "m1") == "Highlight removed."
    assert await picked(h) == ("m1",)  # marco's pick stands
    assert await h.command("highlight", "marco", "m1") == "Highlight removed."
    assert await picked(h) == ()
    [answer] = (await h.recap()).questions[0].answers
    assert dict(answer.reactions) == {}  # a pick never shows as a reaction


async def test_forgetme_takes_the_picks_of_and_by_the_person(h: Harness) -> None:
    await h.say("A1 keep me", 6, message_id="m1", user="alice")
    await h.say("A1 and me", 7, message_id="m2", user="bob")
    assert await h.command("highlight", "kate", "m1") == "Highlighted: it will be in the recap."
    assert await h.command("highlight", "marco", "m2") == "Highlighted: it will be in the recap."
    assert (await h.command("forgetme", "alice")).startswith("Deleted 1 of your stored messages")
    assert await picked(h) == ("m2",)
    assert (await h.command("forgetme", "marco")).startswith("Deleted 0 of your stored messages")
    assert await picked(h) == ()
    assert await h.store.pick_records((await h.run()).id or 0) == []
