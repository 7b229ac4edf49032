"""The console: ``chathost run --platform console``'s adapter, fed typed ``name: text`` lines,
printing to a terminal (a StringIO that the world reads back, as a person at it would)."""

from __future__ import annotations

import io
import re
from typing import ClassVar

from bot.adapters.console.live import ConsoleAdapter
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.service import ChatService
from tests.conformance.world import (
    DELETES,
    EDITS,
    LOST_ANSWERS,
    RATE_LIMITS,
    REACTIONS,
    REDELIVERY,
    REPLIES,
    THREADS,
    Answer,
    Post,
    Said,
    World,
)

TYPED_ONLY = "the console reads typed lines: a terminal has no way to {} a line already sent"
# [19:25:00] #teachat ❓ Q1: ...   (a marker for the kind of post, then its text)
POSTED = re.compile(
    r"\[[^\]]*\] #(?P<channel>\S+)(?P<thread> \(thread\))? (?:[^\w\s]\S* )?(?P<text>.*)"
)
DM = re.compile(r"\[[^\]]*\] DM to (?P<user>[^:]+): (?P<text>.*)")
UPDATED = re.compile(r"\[[^\]]*\] \(updated (?P<id>\S+)\) (?P<text>.*)")
MORE = " " * 11  # a post's further lines are indented


class ConsoleConformance(World):
    platform = "console"
    channel = "teachat"
    cannot: ClassVar[dict[str, str]] = {
        THREADS: "the console has one channel and no threads",
        REPLIES: "the console has no replies: every typed line is a new message",
        EDITS: TYPED_ONLY.format("edit"),
        DELETES: TYPED_ONLY.format("delete"),
        REACTIONS: TYPED_ONLY.format("react to"),
        REDELIVERY: "each typed line is read once from stdin: nothing delivers it again",
        RATE_LIMITS: "a terminal has no rate limits",
        LOST_ANSWERS: "printing a line cannot half-fail: there is no answer to lose",
    }

    async def start(self, plan: Plan, clock: SimClock) -> None:
        self.plan, self.clock = plan, clock
        self.out = io.StringIO()  # the terminal: it outlives the process, as a screen does
        await self._start_process()

    async def _start_process(self) -> None:
        self.adapter = ConsoleAdapter(self.clock, self.channel, out=self.out)
        port = self.adapter.port
        self.engine = Engine(self.plan, self.store, lambda _platform: port, self.clock)
        self.service = ChatService(self.engine)
        await self.engine.start()
        await self.engine.tick()

    async def stop(self) -> None:
        await self.adapter.stop()

    async def restart(self) -> None:
        await self.adapter.stop()
        await self._start_process()

    def user_id(self, name: str) -> str:
        return name  # the console's people are who they say they are

    async def _type(self, user: str, text: str) -> str:
        """Type a line; what the terminal printed in answer."""
        before = len(self.out.getvalue())
        await self.adapter.feed(self.service, f"{user}: {text}")
        return self.out.getvalue()[before:]

    async def user_says(
        self, user: str, text: str, *, thread: str | None = None, reply_to: Said | None = None
    ) -> Said:
        assert thread is None and reply_to is None, self.cannot[THREADS]
        await self._type(user, text)
        # The adapter names each line; the store remembers the name, as chathost does.
        run = await self.stored_run()
        mine = [m for m in run.messages if m.user_id == user and m.text == text]
        return Said(mine[-1].platform_message_id if mine else "", user, text)

    async def command(self, user: str, name: str, args: str = "") -> Answer:
        printed = await self._type(user, f"/{name} {args}".strip())
        prefix = f"(to {user}) "
        [answer] = [line for line in printed.splitlines() if line.startswith(prefix)]
        return Answer(answer.removeprefix(prefix), private=True)

    def link(self, said: Said) -> str:
        return said.id  # the console has no links; a message is named by its id

    async def highlight(self, user: str, said: Said) -> Answer:
        return await self.command(user, "highlight", said.id)

    def _printed(self) -> list[tuple[str, str]]:
        """What the terminal shows, as (kind of line, text): post, dm, update, other."""
        lines: list[tuple[str, str]] = []
        for line in self.out.getvalue().splitlines():
            if line.startswith(MORE) and lines:
                kind, text = lines[-1]
                lines[-1] = (kind, f"{text}\n{line.strip()}")
            elif m := DM.fullmatch(line):
                lines.append((f"dm:{m['user']}", m["text"]))
            elif m := UPDATED.fullmatch(line):
                lines.append(("update", m["text"]))
            elif (m := POSTED.fullmatch(line)) and m["channel"] == self.channel:
                lines.append(("thread" if m["thread"] else "post", m["text"]))
            else:
                lines.append(("other", line))
        return lines

    def posts(self) -> list[Post]:
        printed = [text for kind, text in self._printed() if kind == "post"]
        return [Post(f"line{n}", text) for n, text in enumerate(printed, 1)]

    def dms(self, user: str) -> list[str]:
        return [text for kind, text in self._printed() if kind == f"dm:{user}"]

    def recap_shown(self) -> str:
        """The recap as last printed: the post, or the latest update of it."""
        shown = ""
        for kind, text in self._printed():
            if kind in ("post", "update") and text.startswith("Recap"):
                shown = text
        return shown
