"""The world protocol: what every platform's test world offers the conformance scenarios.

A world is the real core (SQLite store, engine, ChatService, the one inbound door) behind the
platform's real adapter and library, talking to that platform's local fake over the wire
(Slack: slack-bolt against tests/fakes/slack_api.py; Discord: discord.py against
tests/fakes/discord_server.py; the console: the console adapter and the terminal it prints to).
Scenarios speak in neutral terms: people by name (``kate`` hosts, ``marco`` co-hosts, ``alice``
and ``bob`` take part), messages as ``Said`` handles, what the platform shows as ``Post``
records, what chathost remembers as a ``StoredRun``.

A platform that cannot do something a scenario needs says so in ``World.cannot`` (a
capability and the reason); the scenario marks what it needs with ``@needs(...)`` and is then
skipped for that world with the reason, never silently.

Adding a platform: one file in tests/conformance/worlds/ with a ``World`` subclass, and one
line in ``tests/conformance/worlds/__init__.py``'s ``WORLDS``.
"""

from __future__ import annotations

import contextlib
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Digest, Plan, Question, Reminders, Schedule, Summary
from bot.core.recap import Recap
from bot.core.store import MessageRow, PostRow, ReactionRow, RunRow, Store
from tests.support import make_plan

# The plan (tests.support) starts at 19:30 UTC; the host types /startchat ten minutes early,
# so "minute 5" (Q1) is 19:25.
START = datetime(2026, 12, 1, 19, 20, tzinfo=UTC)
CHAT = "tea"
DAY = 24 * 60  # minutes
# The world's chat as an async chat (the ``async_world`` fixture): five days, questions open
# for days and for part of them at once (Q1 0-2d, Q2 1d-3d, Q3 2d-5d), late answers for a day.
ASYNC_CHAT: dict[str, Any] = {
    "mode": "async",
    "schedule": Schedule(start=datetime(2026, 12, 1, 19, 30), duration=timedelta(days=5)),
    "questions": [
        Question(id="Q1", at=timedelta(0), open_for=timedelta(days=2), text="What brought you?"),
        Question(id="Q2", at=timedelta(days=1), open_for=timedelta(days=2), text="What is hard?"),
        Question(id="Q3", at=timedelta(days=2), text="What will you try next?"),
    ],
    "summary": Summary(late_window=timedelta(days=1)),
    "reminders": Reminders(before_close=timedelta(hours=12), quiet_hours="21:00-08:00"),
    "digest": Digest(at="17:00"),
}

# What a world may be unable to do; a scenario names what it needs with @needs(...).
THREADS = "threads"  # a message posted in a question's thread
REPLIES = "replies"  # a message that replies to another one outside threads
EDITS = "edits"
DELETES = "deletes"
REACTIONS = "reactions"
REDELIVERY = "redelivery"  # the platform delivers the same message event twice
RATE_LIMITS = "rate_limits"
LOST_ANSWERS = "lost_answers"  # the platform takes a post but its answer never comes back
CAPABILITIES = frozenset(
    {THREADS, REPLIES, EDITS, DELETES, REACTIONS, REDELIVERY, RATE_LIMITS, LOST_ANSWERS}
)


def needs(*capabilities: str) -> pytest.MarkDecorator:
    """Mark a scenario as needing these capabilities; worlds without one skip it, with their
    reason (the ``world`` fixture reads the mark)."""
    unknown = set(capabilities) - CAPABILITIES
    assert not unknown, f"unknown capabilities {unknown}"
    return pytest.mark.needs(*capabilities)


@dataclass(frozen=True)
class Said:
    """A message someone posted: its platform id, who, what (as first posted)."""

    id: str
    user: str
    text: str
    raw: Any = None


@dataclass(frozen=True)
class Post:
    """Something the bot shows in the chat's channel (top level, as the channel shows it now):
    its text as a reader sees it first (a Slack message's text, a Discord embed's description
    or title when there is no content, a printed line)."""

    id: str
    text: str


@dataclass(frozen=True)
class Answer:
    """What a command's caller was told, and whether only they saw it."""

    text: str
    private: bool


@dataclass
class StoredRun:
    """What chathost remembers of the chat's run."""

    run: RunRow
    messages: list[MessageRow]
    posts: list[PostRow]
    reactions: list[ReactionRow]
    recap: Recap

    def by_text(self) -> dict[str, MessageRow]:
        return {m.text: m for m in self.messages}

    def by_id(self) -> dict[str, MessageRow]:
        return {m.platform_message_id: m for m in self.messages}

    def post(self, key: str) -> PostRow:
        [post] = [p for p in self.posts if p.key == key]
        return post


QUESTION = re.compile(r"([QX]\d+): ")  # X1: an extra question, added with /ask


class World:
    """The protocol, with what every world shares. Subclasses implement the platform verbs."""

    platform: ClassVar[str]
    channel: ClassVar[str]  # the channel the plan names
    threads: ClassVar[str] = "none"  # the plan's threads setting on this platform
    cannot: ClassVar[dict[str, str]] = {}  # capability -> why this platform cannot
    # The time zones the platform tells of its people (Slack's users.info); elsewhere
    # reminders keep to the chat's zone.
    zones: ClassVar[dict[str, str]] = {}

    store: Store
    clock: SimClock
    plan: Plan
    engine: Engine

    def __init__(self, store: Store) -> None:
        self.store = store
        # The chat whose run ``stored_run`` reads: the plan's, or a spontaneous one's id.
        self.chat_id = CHAT

    # lifecycle

    @classmethod
    def can(cls, capability: str) -> bool:
        return capability not in cls.cannot

    def make_plan(self, **overrides: Any) -> Plan:
        return make_plan(
            platform=self.platform, channel=self.channel, threads=self.threads, **overrides
        )

    async def start(self, plan: Plan, clock: SimClock) -> None:
        """Bring up the fake, the adapter and the core on ``plan``, at ``clock``'s time."""
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def restart(self) -> None:
        """The process dies and starts again: a new adapter, engine and service on the same
        store and the same platform; nothing kept in memory survives."""
        raise NotImplementedError

    # time

    async def at(self, minutes: float) -> None:
        """Move to ``minutes`` after /startchat and let the engine do what is due."""
        self.clock.set(START + timedelta(minutes=minutes))
        await self.engine.tick()

    # people do things (all through the platform, into the adapter, to ChatService)

    def user_id(self, name: str) -> str:
        """The id the platform gives ``name`` (and chathost stores)."""
        raise NotImplementedError

    async def user_says(
        self, user: str, text: str, *, thread: str | None = None, reply_to: Said | None = None
    ) -> Said:
        """``thread``: a question id, for a message in that question's thread."""
        raise NotImplementedError

    async def react(self, said: Said, user: str, emoji: str, *, remove: bool = False) -> None:
        """``emoji`` is a neutral name (star, +1, tada); each world uses its platform's form."""
        raise NotImplementedError

    async def edit(self, said: Said, text: str) -> None:
        raise NotImplementedError

    async def delete(self, said: Said) -> None:
        raise NotImplementedError

    async def command(self, user: str, name: str, args: str = "") -> Answer:
        raise NotImplementedError

    async def highlight(self, user: str, said: Said) -> Answer:
        """A host's pick for the recap, the platform's natural way (a message menu)."""
        raise NotImplementedError

    def link(self, said: Said) -> str:
        """How a host names ``said`` in ``/highlight message``: its link (Copy link)."""
        raise NotImplementedError

    def emoji(self, name: str) -> str:
        """The platform's form of a neutral emoji name, as chathost stores it."""
        raise NotImplementedError

    async def deliver_twice(self, user: str, text: str) -> Said:
        """The platform delivers one message's event twice (a retry, a replay)."""
        raise NotImplementedError

    # the platform misbehaves

    def rate_limit_next_post(self) -> None:
        """The platform answers the next channel post with a rate limit (429)."""
        raise NotImplementedError

    def lose_answer_of_next_post(self, *, dm_to: str | None = None) -> None:
        """The platform carries out the next post (or DM to ``dm_to``), but its answer is lost
        on the way back: chathost cannot tell that it landed."""
        raise NotImplementedError

    # what people see

    def posts(self) -> list[Post]:
        """The bot's posts at the top of the chat's channel, oldest first."""
        raise NotImplementedError

    def dms(self, user: str) -> list[str]:
        """The texts of the bot's direct messages to ``user``, oldest first."""
        raise NotImplementedError

    def recap_shown(self) -> str:
        """All the text of the posted recap as the platform shows it now (its headline and
        its details), flattened; empty before the recap."""
        raise NotImplementedError

    def questions(self) -> list[str]:
        """The ids of the question posts the channel shows, in order (Q1, Q2, ...)."""
        return [m[1] for p in self.posts() if (m := QUESTION.match(p.text))]

    # what chathost remembers

    async def stored_run(self) -> StoredRun:
        runs = [r for r in await self.store.runs_for_chat(self.chat_id) if r.started_at]
        assert len(runs) == 1, runs
        [run] = runs
        run_id = run.id or 0
        return StoredRun(
            run,
            await self.store.run_messages(run_id),
            await self.store.posts(run_id),
            await self.store.reactions_for_run(run_id),
            await self.engine.recap(run_id),
        )

    # the platform's own evidence for a scenario, beyond the neutral assertions (its
    # rendering, how it found a lost post); no-ops unless the platform has something to show

    async def check_whole_chat(self, facts: dict[str, Any]) -> None:
        return None

    async def check_lost_answer(self) -> None:
        return None

    async def check_lost_nudge(self) -> None:
        return None

    async def check_rate_limit(self) -> None:
        return None

    async def check_repeated_delivery(self) -> None:
        return None

    async def check_pick(self, said: Said, *, restarted: bool) -> None:
        """After a late pick of ``said`` (by a process that ``restarted`` after the recap)."""
        return None

    async def check_opt_out(self) -> None:
        return None

    async def check_forgetme(self, *, restarted: bool) -> None:
        """After /forgetme took alice out of the posted recap."""
        return None


class WrappedWorld(World):
    """A world around a platform's own test world (tests/slack/world.py, tests/discord/
    harness.py), which knows how to start, stop and restart its process."""

    inner: Any

    async def _open(self, inner: AbstractAsyncContextManager[Any]) -> Any:
        self._stack = contextlib.AsyncExitStack()
        self.inner = await self._stack.enter_async_context(inner)
        return self.inner

    async def stop(self) -> None:
        await self._stack.aclose()

    async def restart(self) -> None:
        await self.inner.restart()

    @property  # type: ignore[override]
    def engine(self) -> Engine:
        """The engine of the current process (a restart makes a new one)."""
        return self.inner.engine
