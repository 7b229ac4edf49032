"""Telegram: python-telegram-bot against the fake Bot API (tests/fakes/telegram_api.py) over
HTTP, in a forum group (a topic per question)."""

from __future__ import annotations

import asyncio
import html
import re
from contextlib import AsyncExitStack
from typing import Any, ClassVar

from pydantic import SecretStr

from bot.adapters.telegram.adapter import TelegramAdapter, TelegramOptions
from bot.adapters.telegram.config import TelegramSettings
from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Plan
from bot.core.service import ChatService
from bot.export.pictures import recap_pictures
from tests.conformance.world import DELETES, LOST_ANSWERS, Answer, Post, Said, World
from tests.fakes.telegram_api import FakeTelegram, SentMessage

GROUP = -1001234567890
IDS = {"alice": 1001, "bob": 1002, "kate": 1003, "marco": 1004}
EMOJI = {"star": "🏆", "+1": "👍", "tea": "🍓"}  # Telegram's own set of reaction emoji
_TAG = re.compile(r"<[^>]+>")


def shown(text: str) -> str:
    """HTML as a reader sees it."""
    return html.unescape(_TAG.sub("", text))


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


class TelegramConformance(World):
    platform = "telegram"
    channel = f"{GROUP}"
    threads = "per-question"
    cannot: ClassVar[dict[str, str]] = {
        DELETES: "Telegram sends bots no event when a message is deleted",
        LOST_ANSWERS: "the Bot API has no idempotency key and no history search for bots: a "
        "post whose answer was lost cannot be found, so it is sent again (at-least-once)",
    }

    def make_plan(self, **overrides: Any) -> Plan:
        from tests.support import make_plan

        return make_plan(
            platform=self.platform, channel=f'"{GROUP}"', threads=self.threads, **overrides
        )

    async def start(self, plan: Plan, clock: SimClock) -> None:
        self.plan, self.clock = plan, clock
        self._stack = AsyncExitStack()
        self.fake = await self._stack.enter_async_context(FakeTelegram())
        self.fake.now = lambda: clock.now().timestamp()
        self.fake.add_group(GROUP, is_forum=True, members=42)
        for name, user_id in IDS.items():
            self.fake.add_user(user_id, name, name, started_bot=True)
        self._answers: set[tuple[int, int]] = set()  # DMs that answered a command
        await self._start_process()

    async def _start_process(self) -> None:
        own = TelegramSettings(bot_token=SecretStr(self.fake.token), api_url=self.fake.base_url)
        options = TelegramOptions(poll_timeout=1, delete_after=0.05)
        self.adapter = TelegramAdapter(own, self.plan, self.clock, options, sleep=_no_wait)
        port = self.adapter.port
        self.engine = Engine(
            self.plan, self.store, lambda _p: port, self.clock, illustrate=recap_pictures
        )
        self.service = ChatService(self.engine)
        await self.adapter.start(self.service)
        await self.engine.start()
        await self.engine.tick()

    async def stop(self) -> None:
        await self.adapter.stop()
        await self._stack.aclose()

    async def restart(self) -> None:
        await self.adapter.stop()
        # the new process learns the people again as they speak; the old one knew them
        await self._start_process()
        for name, user_id in IDS.items():
            self.adapter.people.saw(user_id, name, GROUP)

    async def _delivered(self) -> None:
        await self.adapter.journal.wait_for(self.fake.next_update_id - 1)

    def user_id(self, name: str) -> str:
        return str(IDS[name])

    def emoji(self, name: str) -> str:
        return EMOJI[name]

    def _question(self, question: str) -> SentMessage:
        [post] = [
            m
            for m in self._ours()
            if shown(m.text).startswith(f"{question}: ") and m.reply_to is None
        ]
        return post

    async def user_says(
        self, user: str, text: str, *, thread: str | None = None, reply_to: Said | None = None
    ) -> Said:
        topic = self._question(thread).thread_id if thread else None
        sent = self.fake.user_says(
            GROUP,
            IDS[user],
            text,
            reply_to=int(reply_to.id) if reply_to else None,
            thread_id=topic,
        )
        await self._delivered()
        return Said(str(sent["message_id"]), user, text, sent)

    async def react(self, said: Said, user: str, emoji: str, *, remove: bool = False) -> None:
        mark = [EMOJI[emoji]]
        self.fake.user_reacts(
            GROUP, int(said.id), IDS[user], [] if remove else mark, mark if remove else []
        )
        await self._delivered()

    async def edit(self, said: Said, text: str) -> None:
        self.fake.user_edits(GROUP, int(said.id), text)
        await self._delivered()

    async def delete(self, said: Said) -> None:
        raise AssertionError(self.cannot[DELETES])

    async def _answer_to(self, user: str, send: Any) -> Answer:
        before = len(self.fake.sent(IDS[user]))
        asked = send()
        await self._delivered()
        dms = self.fake.sent(IDS[user])[before:]
        self._answers |= {(m.chat_id, m.message_id) for m in dms}
        if dms:
            return Answer("\n".join(shown(m.text) for m in dms), True)
        [reply] = [m for m in self.fake.sent(GROUP) if m.reply_to == asked["message_id"]]
        return Answer(shown(reply.text), False)

    async def command(self, user: str, name: str, args: str = "") -> Answer:
        line = f"/{name}@TeaBot {args}".strip()
        return await self._answer_to(
            user, lambda: self.fake.user_sends_command(GROUP, IDS[user], line)
        )

    async def highlight(self, user: str, said: Said) -> Answer:
        def send() -> dict[str, Any]:
            message = self.fake.make_message(
                GROUP,
                self.fake.users[IDS[user]],
                "/highlight",
                entities=[{"type": "bot_command", "offset": 0, "length": 10}],
                reply_to_message=said.raw,
            )
            self.fake.push_raw_update({"update_id": self.fake.next_update_id, "message": message})
            return message

        return await self._answer_to(user, send)

    def link(self, said: Said) -> str:
        return f"https://t.me/c/{str(GROUP)[4:]}/{said.id}"

    async def deliver_twice(self, user: str, text: str) -> Said:
        said = await self.user_says(user, text)
        update_id = self.fake.next_update_id - 1
        # Telegram again: a webhook retried, or a replay by a process that died before its
        # next getUpdates confirmed the offset
        await self.adapter.inbound.handle_raw({"update_id": update_id, "message": said.raw})
        return said

    def rate_limit_next_post(self) -> None:
        self.fake.fail_next("sendMessage", status=429, retry_after=1)

    def lose_answer_of_next_post(self, *, dm_to: str | None = None) -> None:
        raise AssertionError(self.cannot[LOST_ANSWERS])

    def _ours(self) -> list[SentMessage]:
        return [m for m in self.fake.sent(GROUP) if not m.deleted]

    def posts(self) -> list[Post]:
        """The bot's messages that are not replies (the recap's details reply to it)."""
        return [
            Post(str(m.message_id), shown(m.text))
            for m in self._ours()
            if m.reply_to is None and m.method == "sendMessage"
        ]

    def dms(self, user: str) -> list[str]:
        sent = self.fake.sent(IDS[user])
        return [shown(m.text) for m in sent if (m.chat_id, m.message_id) not in self._answers]

    def recap_shown(self) -> str:
        heads = [m for m in self._ours() if shown(m.text).startswith("Recap:")]
        parts = [m for h in heads for m in self._ours() if m.reply_to == h.message_id]
        return "\n".join(shown(m.text) for m in [*heads, *parts])

    # Telegram's own evidence

    async def check_whole_chat(self, facts: dict[str, Any]) -> None:
        """A topic per question, each question posted in its own; the recap's details and
        the word cloud (a photo) reply to its headline; reach from getChatMemberCount."""
        topics = self.fake.topics(GROUP)
        assert [name[:2] for name in topics.values()] == ["Q1", "Q2", "Q3"]
        for qid in ("Q1", "Q2", "Q3"):
            assert self._question(qid).thread_id in topics
        [head] = [m for m in self._ours() if shown(m.text).startswith("Recap:")]
        assert head.text.startswith("<b>Recap: Tea Chat #teachat</b>")
        assert "reach 42 members" in shown(head.text)
        replies = [m for m in self._ours() if m.reply_to == head.message_id]
        [photo] = [m for m in replies if m.method == "sendPhoto"]
        assert photo.photo is not None and photo.photo.startswith(b"\x89PNG")
        assert replies[-1] is photo and len(replies) == 5  # Q1..Q3, the rest, the picture
        assert facts["link"] in self.recap_shown()

    async def check_repeated_delivery(self) -> None:
        assert [h.outcome for h in self.adapter.journal.items][-1] == "duplicate"
