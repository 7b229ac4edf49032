"""A Slack world for end-to-end tests: the real core (SQLite store, engine, service) and the
real slack-bolt/slack_sdk adapter, talking to the fake Slack over local sockets.

Time is simulated (SimClock + engine.tick()); the adapter's own waits (send pacing, 429s) are
real but short: the send interval is 0.05 s here instead of Slack's 1 s.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.adapters.slack import SlackAdapter, build_slack_adapter
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.service import ChatService
from bot.core.store import MessageRow, RunRow, Store
from bot.export.pictures import recap_pictures
from bot.settings import Settings
from tests.fakes import slack_requests as sr
from tests.fakes.slack_api import Call, FakeSlack
from tests.support import make_plan

SECRET = "test-signing-secret"
CHANNEL = "C0100"  # named chat2lrn in the fake
INTERVAL = 0.05  # the send queue's pacing in tests (Slack's is 1 s)
# The plan (tests.support) starts at 19:30 UTC; the host types /startchat ten minutes early.
START = datetime(2026, 12, 1, 19, 20, tzinfo=UTC)

KATE = ("U0003", "kate")  # a host in tests.support's plan
MARCO = ("U0004", "marco")  # its co-host
ALICE = ("U0001", "alice")
BOB = ("U0002", "bob")


class RecordingSleep:
    """asyncio.sleep that remembers what it was asked to wait (to check Retry-After)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(delay)


def populate(fake: FakeSlack) -> None:
    fake.channels[CHANNEL] = {
        "name": "chat2lrn",
        "members": ["U0001", "U0002", "U0003", "U0004", "UBOT"],
        "num_members": 42,  # more than the few who take part: the recap's reach
    }
    fake.users["U0003"] = {"name": "kate", "real_name": "Kate Host", "display_name": "Kate"}
    fake.users["U0004"] = {"name": "marco", "real_name": "Marco Cohost"}


@dataclass
class SlackWorld:
    fake: FakeSlack
    clock: SimClock
    store: Store
    plan: Plan
    engine: Engine
    service: ChatService
    adapter: SlackAdapter
    http: aiohttp.ClientSession
    sleep: RecordingSleep
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _responses: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # time

    def ts(self, at: datetime | None = None) -> str:
        """A unique Slack ts at the simulated time (Slack's ts is the post time)."""
        when = (at or self.clock.now()).timestamp()
        return f"{int(when)}.{next(self._seq):06d}"

    async def at(self, minutes: float) -> None:
        """Move to ``minutes`` after /startchat and let the engine do what is due."""
        self.clock.set(START + timedelta(minutes=minutes))
        await self.engine.tick()

    # Slack -> app

    async def deliver(self, payload: dict[str, Any], *, retry_num: int | None = None) -> int:
        """POST a signed event_callback to the app; returns the HTTP status."""
        assert self.adapter.url is not None
        body, headers = sr.signed_event_request(SECRET, payload, retry_num=retry_num)
        async with self.http.post(self.adapter.url, data=body, headers=headers) as resp:
            status = resp.status
        await self.adapter.drain()
        return status

    async def event(self, event: dict[str, Any], **kw: Any) -> dict[str, Any]:
        payload = sr.event_callback(event)
        assert await self.deliver(payload, **kw) == 200
        return payload

    async def say(
        self, text: str, user: tuple[str, str] = ALICE, *, thread_ts: str | None = None
    ) -> str:
        ts = self.ts()
        await self.event(
            sr.message_event(text, user=user[0], channel=CHANNEL, ts=ts, thread_ts=thread_ts)
        )
        return ts

    async def command(
        self, name: str, text: str = "", user: tuple[str, str] = KATE
    ) -> dict[str, Any]:
        """Run a slash command over HTTP; returns what the response_url received."""
        key, url = self._response_url()
        fields = sr.slash_command(
            f"/{name}",
            text,
            user_id=user[0],
            user_name=user[1],
            channel_id=CHANNEL,
            channel_name="chat2lrn",
            response_url=url,
        )
        return await self._answered(key, *sr.signed_command_request(SECRET, fields))

    async def shortcut(
        self, callback_id: str, message_ts: str, user: tuple[str, str] = KATE
    ) -> dict[str, Any]:
        """Choose a message shortcut over HTTP; returns what the response_url received."""
        key, url = self._response_url()
        payload = sr.message_shortcut(
            callback_id,
            message_ts=message_ts,
            user_id=user[0],
            user_name=user[1],
            channel_id=CHANNEL,
            channel_name="chat2lrn",
            response_url=url,
        )
        return await self._answered(key, *sr.signed_interactive_request(SECRET, payload))

    def _response_url(self) -> tuple[str, str]:
        key = f"r{next(self._responses)}"
        return key, self.fake.response_url(key)

    async def _answered(self, key: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """POST a signed request to the app; what it then sent to the response_url ``key``."""
        assert self.adapter.url is not None
        async with self.http.post(self.adapter.url, data=body, headers=headers) as resp:
            assert resp.status == 200
        await self.adapter.drain()
        calls = await self.fake.wait_for(f"response_url:{key}")
        return calls[0].args

    # what Slack saw

    def channel_posts(self) -> list[dict[str, Any]]:
        return self.fake.posted_messages(CHANNEL)

    def questions(self) -> list[dict[str, Any]]:
        """Question posts as sent: Block Kit messages whose fallback text is "Qn: ..."."""
        return [
            m
            for m in self.channel_posts()
            if re.match(r"Q\d+: ", m.get("text", "")) and _first_text(m).startswith("*Q")
        ]

    async def run(self) -> RunRow:
        runs = await self.store.runs_for_chat("tea")
        live = [r for r in runs if r.started_at is not None]
        assert len(live) == 1, runs
        return live[0]

    async def messages(self) -> list[MessageRow]:
        run = await self.run()
        return await self.store.run_messages(run.id or 0)

    async def restart(self) -> None:
        """The process dies and starts again: a new adapter, engine and service on the same
        store and the same Slack (which keeps everything it was sent)."""
        await self.adapter.stop()
        self.adapter, self.engine, self.service = await _start_app(
            self.fake, self.store, self.plan, self.clock, mode="http", sleep=self.sleep
        )


def block_texts(message: dict[str, Any]) -> str:
    """The text of a Block Kit message's blocks: sections, fields and context elements."""
    parts = []
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", [])]
    return "\n".join(parts)


def _first_text(message: dict[str, Any]) -> str:
    blocks = message.get("blocks") or []
    if not blocks:
        return ""
    return str((blocks[0].get("text") or {}).get("text", ""))


def settings_for(fake: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
    )


async def _start_app(
    fake: FakeSlack,
    store: Store,
    plan: Plan,
    clock: SimClock,
    *,
    mode: str,
    sleep: RecordingSleep,
    ping_interval: float | None = None,
) -> tuple[SlackAdapter, Engine, ChatService]:
    """One chathost process for Slack: its adapter (started), engine and service."""
    adapter = build_slack_adapter(
        settings_for(fake),
        clock,
        mode=mode,
        port=0,
        host="127.0.0.1",
        send_interval=INTERVAL,
        sleep=sleep,
    )
    if ping_interval is not None:
        adapter.socket_ping_interval = ping_interval
    engine = Engine(plan, store, lambda _platform: adapter.port, clock, illustrate=recap_pictures)
    service = ChatService(engine)
    await engine.start()
    await engine.tick()  # creates the planned 19:30 run, which /startchat then starts
    await adapter.start(service)
    return adapter, engine, service


@asynccontextmanager
async def slack_world(
    store: Store,
    *,
    mode: str = "http",
    plan: Plan | None = None,
    ping_interval: float | None = None,
    clock: SimClock | None = None,
) -> AsyncIterator[SlackWorld]:
    """``ping_interval``: Socket Mode's, shorter than Slack's 10 s for tests that break the
    socket and wait for slack_sdk to reconnect. ``clock`` starts at START unless given."""
    async with FakeSlack() as fake, aiohttp.ClientSession() as http:
        populate(fake)
        clock = clock or SimClock(START)
        fake.now = lambda: clock.now().timestamp()
        plan = plan or make_plan(platform="slack", channel="chat2lrn", threads="per-question")
        sleep = RecordingSleep()
        adapter, engine, service = await _start_app(
            fake, store, plan, clock, mode=mode, sleep=sleep, ping_interval=ping_interval
        )
        world = SlackWorld(fake, clock, store, plan, engine, service, adapter, http, sleep)
        try:
            yield world
        finally:
            await world.adapter.stop()


def calls_in(fake: FakeSlack, method: str, **args: str) -> list[Call]:
    return [c for c in fake.calls_to(method) if all(c.args.get(k) == v for k, v in args.items())]


def details_of(world: SlackWorld, parent: dict[str, Any]) -> list[dict[str, Any]]:
    """The text messages in a post's thread (a recap's details), without the file shares."""
    in_thread = world.fake.messages[CHANNEL]
    return [m for m in in_thread if m.get("thread_ts") == parent["ts"] and not m.get("upload")]


def shares_in(world: SlackWorld, parent: dict[str, Any]) -> list[dict[str, Any]]:
    """The file share messages in a post's thread (the recap's word cloud)."""
    in_thread = world.fake.messages[CHANNEL]
    return [m for m in in_thread if m.get("thread_ts") == parent["ts"] and m.get("upload")]
