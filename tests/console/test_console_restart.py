"""The terminal chat survives a restart: replies typed after it are stored and counted."""

from __future__ import annotations

import io

from bot.adapters.console.live import ConsoleAdapter
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.service import ChatService
from bot.core.store import Store
from tests.conftest import T0
from tests.support import make_plan


async def _console(store: Store, clock: SimClock) -> tuple[ConsoleAdapter, ChatService, io.StringIO]:
    """One ``chathost run --platform console`` process: its own adapter, engine and service."""
    out = io.StringIO()
    adapter = ConsoleAdapter(clock, "teachat", out=out)
    engine = Engine(make_plan(), store, lambda _: adapter.port, clock)
    await engine.start()
    return adapter, ChatService(engine), out


async def test_replies_after_a_restart_mid_chat_are_all_stored(store: Store, clock: SimClock) -> None:
    clock.set(T0.replace(minute=34))
    first, service, _ = await _console(store, clock)
    await first.feed(service, "kate: /startchat")
    await first.feed(service, "kate: /nextq")
    await first.feed(service, "ann: A1 before the restart")
    await first.feed(service, "bob: A1 me too, before")

    second, service, out = await _console(store, clock)  # the process was killed and started again
    await second.feed(service, "ann: A1 after the restart")
    await second.feed(service, "bob: A1 still here")
    await second.feed(service, "cy: A1 new after the restart")

    assert "not recorded" not in out.getvalue()
    [run] = await store.runs_for_chat("tea")
    texts = [m.text for m in await store.run_messages(run.id or 0)]
    assert texts == [
        "A1 before the restart",
        "A1 me too, before",
        "A1 after the restart",
        "A1 still here",
        "A1 new after the restart",
    ]
    assert len(await store.participants(run.id or 0)) == 3


async def test_posts_after_a_restart_get_ids_of_their_own(store: Store, clock: SimClock) -> None:
    clock.set(T0.replace(minute=34))
    first, service, _ = await _console(store, clock)
    await first.feed(service, "kate: /startchat")
    second, service, _ = await _console(store, clock)
    await second.feed(service, "kate: /nextq")
    [run] = await store.runs_for_chat("tea")
    ids = [p.message_id for p in await store.posts(run.id or 0) if p.message_id]
    assert len(ids) == len(set(ids)) >= 2
