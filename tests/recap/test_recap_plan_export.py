"""``chathost export RUN --format plan``: a run written back as a chats.yaml entry that
``chathost validate`` accepts, with its questions at the offsets they were asked at (a
spontaneous chat's, and a planned chat's with an extra question added by /ask)."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import ChannelRef, Command, User
from bot.core.plan import AdHoc, load_plan, parse_plan
from bot.core.recap import QuestionView, RunView
from bot.core.service import ChatService
from bot.core.snapshot import load_stored_run
from bot.core.store import Store
from bot.export.formats import render
from bot.export.plan_export import run_plan
from tests.core.async_support import async_plan, day
from tests.core.test_engine import CHANNEL, at
from tests.fakes.port import FakePort
from tests.support import make_plan

GENERAL = ChannelRef("C0GENERAL", "general")


class Host:
    """One worker's engine on the test's store, and kate typing commands into it."""

    def __init__(self, store: Store, clock: SimClock) -> None:
        plan = make_plan().model_copy(update={"adhoc": AdHoc(channels=["general"])})
        self.clock, self.port = clock, FakePort()
        self.engine = Engine(plan, store, lambda _: self.port, clock)
        self.service = ChatService(self.engine)

    @classmethod
    async def started(cls, store: Store, clock: SimClock) -> Host:
        host = cls(store, clock)
        await host.engine.start()
        return host

    async def type(self, minutes: float, name: str, args: str = "", where=GENERAL) -> str:
        self.clock.set(at(minutes))
        await self.engine.tick()
        command = Command("console", where, User("kate", "kate"), name, at(minutes), args)
        reply = await self.service.on_command(command)
        assert reply.ok, reply.text
        await self.engine.tick()
        return reply.text

    async def until(self, minutes: float) -> None:
        self.clock.set(at(minutes))
        await self.engine.tick()
        await self.engine.tick()


async def cli(*argv: str) -> int:
    """``chathost ARGV`` (it runs its own event loop, so in a thread of its own)."""
    return await asyncio.to_thread(main, list(argv))


def db_of(store: Store, tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chathost.db'}"


async def test_a_spontaneous_run_becomes_a_plan_entry_that_validates(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = await Host.started(store, SimClock(at(-30)))
    await host.type(-30, "startchat", "Panel: AI in schools #aichat")
    await host.type(-29, "ask", "What worries you most?")
    await host.type(-27.5, "ask", "And what gives you hope?")
    await host.type(-21.25, "endchat")
    await host.until(-20)

    out = tmp_path / "panel.yaml"
    db = db_of(store, tmp_path)
    assert await cli("export", "latest", "--format", "plan", "--db", db, "--out", str(out)) == 0
    assert await cli("validate", str(out)) == 0
    assert "panel.yaml: OK (1 chats: panel-ai-in-schools)" in capsys.readouterr().out
    text = out.read_text()
    assert text.startswith("# From run 2 of Panel: AI in schools, started 2026-12-01 19:00 (UTC)")
    [chat] = load_plan(out).chats
    assert (chat.title, chat.tag, chat.channel, chat.hosts) == (
        "Panel: AI in schools",
        "#aichat",
        "C0GENERAL",
        ["kate"],
    )
    assert [(q.id, q.text, q.at) for q in chat.questions] == [
        ("Q1", "What worries you most?", timedelta(minutes=1)),
        ("Q2", "And what gives you hope?", timedelta(minutes=2, seconds=30)),
    ]
    assert chat.schedule.duration == timedelta(minutes=9)  # 8m45s held, in whole minutes
    assert chat.schedule.start is not None and f"{chat.schedule.start:%H:%M}" == "19:00"
    assert not chat.nudges.enabled and not chat.spontaneous


async def test_a_planned_run_with_an_extra_question_keeps_the_order_they_went_out(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = await Host.started(store, SimClock(at(-1)))
    await host.until(5)  # the plan's chat started at 0: Q1 at 5, Q2 at 20, Q3 at 40
    await host.type(8, "ask", "Who is new tonight?", where=CHANNEL)  # X1
    await host.until(20)
    await host.type(30, "skipq", where=CHANNEL)  # Q3 never goes out
    await host.until(60)

    run = await store.latest_run()
    stored = await load_stored_run(store, run.id or 0)
    done = render(stored, "plan")
    assert done.filename == "tea-2026-12-01-run1.yaml"
    plan = parse_plan(done.content.decode())
    [chat] = plan.chats
    assert chat.id == "tea" and chat.schedule.duration == timedelta(hours=1)
    assert chat.intro == "Welcome to Tea Chat!" and chat.cohosts == ["marco"]
    assert [(q.id, q.text, q.at) for q in chat.questions] == [
        ("Q1", "What brought you here?", timedelta(minutes=5)),
        ("Q2", "Who is new tonight?", timedelta(minutes=8)),
        ("Q3", "What is hard about it?", timedelta(minutes=20)),
    ]


async def test_a_run_that_asked_nothing_cannot_be_planned(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = await Host.started(store, SimClock(at(-30)))
    await host.type(-30, "startchat", "Quiet one")
    await host.type(-29, "endchat")
    await host.until(-28)
    db = db_of(store, tmp_path)
    assert await cli("export", "latest", "--format", "plan", "--db", db) == 1
    err = capsys.readouterr().err
    assert err == "run 2 asked no question: a plan's chat needs at least one\n"


def test_validate_reads_a_plan_on_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = "adhoc: {hosts: [kate]}\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(good))
    assert main(["validate", "-"]) == 0
    assert capsys.readouterr().out.startswith("-: OK (0 chats")
    monkeypatch.setattr(sys, "stdin", io.StringIO("adhoc: {duration: soon, hosts: [k]}\n"))
    assert main(["validate", "-"]) == 1
    assert capsys.readouterr().err.startswith('<stdin>:1:19 adhoc.duration: "soon"')


def test_an_async_run_ended_early_keeps_its_windows_and_validates() -> None:
    """Q1 and Q2 went out, the host ended it on day 2: their windows (open_for) are kept and
    the plan's duration still holds them, as validate requires."""
    chat = async_plan().chats[0]
    questions = [
        QuestionView("Q1", "What brought you here?", day(0)),
        QuestionView("Q2", "What is hard about it?", day(1)),
        QuestionView("Q3", "What will you try next?", None),
    ]
    view = RunView(
        1, "tea", "Slow Tea", "#slowtea", "summarised", day(0), day(0), day(2), questions, []
    )
    [planned] = parse_plan(run_plan(chat, view)).chats
    assert planned.is_async
    assert [(q.id, q.at, q.open_for) for q in planned.questions] == [
        ("Q1", timedelta(0), timedelta(days=2)),
        ("Q2", timedelta(days=1), timedelta(days=2)),
    ]
    assert planned.schedule.duration == timedelta(days=3)  # Q2 closes then, after the end
