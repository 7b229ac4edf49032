"""The adapter against a Bot API server over HTTP (python-telegram-bot unchanged): start-up and
the privacy-mode warning, the command menus, commands in and answers out, a DM that Telegram
refuses falling back to the group, a 429 waited out, a webhook's secret, repeated and malformed
updates. The core behind it is a recorder of what reached the one inbound door."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.adapters.telegram.adapter import TelegramAdapter, TelegramOptions, quiet_http_log
from bot.adapters.telegram.config import TelegramSettings
from bot.core.clock import SimClock
from bot.core.events import Command, CommandReply, PlatformEvent
from bot.core.plan import parse_plan
from bot.core.ports import Outgoing
from tests.conformance.world import START
from tests.fakes.telegram_api import FakeTelegram
from tests.support import make_plan

GROUP = -1001234567890
ALICE, BOB, KATE = 1001, 1002, 1003


@dataclass
class Door:
    """What reached the core's inbound door, and what it answers a command."""

    events: list[PlatformEvent] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    answer: CommandReply = field(default_factory=lambda: CommandReply(True, "Posted Q1."))

    async def on_event(self, event: PlatformEvent) -> bool:
        self.events.append(event)
        return True

    async def on_command(self, command: Command) -> CommandReply:
        self.commands.append(command)
        return self.answer


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_group(GROUP)
        server.add_user(ALICE, "alice", "Alice", started_bot=True)
        server.add_user(BOB, "bob", "Bob")  # never started the bot
        server.add_user(KATE, "kate", "Kate", started_bot=True, admin_of=(GROUP,))
        yield server


def adapter_for(fake: FakeTelegram, *, mode: str = "polling", **settings: Any) -> TelegramAdapter:
    own = TelegramSettings(bot_token=SecretStr(fake.token), api_url=fake.base_url, **settings)
    plan = make_plan(platform="telegram", channel=f'"{GROUP}"', hosts=["role:admins"])
    options = TelegramOptions(mode=mode, port=0, poll_timeout=1, delete_after=0.05)  # type: ignore[arg-type]
    return TelegramAdapter(own, plan, SimClock(START), options)


@pytest_asyncio.fixture
async def running(fake: FakeTelegram) -> AsyncIterator[tuple[TelegramAdapter, Door]]:
    adapter, door = adapter_for(fake), Door()
    await adapter.start(door)  # type: ignore[arg-type]
    try:
        yield adapter, door
    finally:
        await adapter.stop()


async def handled(adapter: TelegramAdapter, count: int) -> None:
    await adapter.journal.wait_count(count)


async def test_start_up_registers_the_menus_by_scope(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    assert "nextq" in fake.my_commands("chat_administrators", GROUP)
    assert "forgetme" in fake.my_commands("chat_administrators", GROUP)
    participant = fake.my_commands("all_group_chats")
    assert "forgetme" in participant and "nextq" not in participant
    assert fake.calls("deleteWebhook")  # polling needs the webhook gone


async def test_privacy_mode_is_named_with_its_fix_at_start(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake.set_privacy(True)
    adapter = adapter_for(fake)
    with caplog.at_level(logging.WARNING, "chathost.telegram"):
        await adapter.start(Door())  # type: ignore[arg-type]
        await adapter.stop()
    [line] = [r.getMessage() for r in caplog.records if "privacy mode" in r.getMessage()]
    assert "/setprivacy" in line and "Disable" in line and "admin" in line
    assert str(GROUP) in line


async def test_a_message_reaches_the_core_and_a_repeat_or_a_malformed_update_does_not(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, door = running
    said = fake.user_says(GROUP, KATE, "A1 <oolong> & milk")
    fake.push_raw_update({"update_id": 1, "message": said})  # the same update again
    fake.push_raw_update({"update_id": 2, "message": {"message_id": "not a message"}})
    fake.user_says(GROUP, ALICE, "still here")
    await handled(adapter, 4)
    texts = [(e.text, e.user.name, e.user.roles) for e in door.events]  # type: ignore[union-attr]
    assert texts == [
        ("A1 <oolong> & milk", "kate", frozenset({"admins"})),
        ("still here", "alice", frozenset()),
    ]
    assert [h.outcome for h in adapter.journal.items] == [
        "stored",
        "duplicate",
        "malformed",
        "stored",
    ]


async def test_a_command_for_this_bot_is_answered_by_dm_or_in_the_group(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, door = running
    fake.user_sends_command(GROUP, ALICE, "/nextq@TeaBot tea")
    fake.user_sends_command(GROUP, ALICE, "/nextq@OtherBot")
    await handled(adapter, 2)
    [command] = door.commands
    assert (command.name, command.args, command.channel.id) == ("nextq", "tea", str(GROUP))
    [dm] = fake.sent(ALICE)
    assert dm.text == "Posted Q1." and dm.parse_mode == "HTML"

    # bob never started the bot: the answer replies in the group, then is deleted
    asked = fake.user_sends_command(GROUP, BOB, "/nextq")
    await handled(adapter, 3)
    [in_group] = fake.sent(GROUP)
    assert in_group.reply_to == asked["message_id"] and in_group.text == "Posted Q1."
    for _ in range(100):
        if in_group.deleted:
            break
        await _tick()
    assert in_group.deleted
    tried = [c for c in fake.calls("sendMessage") if int(c.params["chat_id"]) == BOB]
    assert len(tried) == 1


async def test_a_nudge_refused_by_dm_goes_to_the_group_as_a_mention_and_is_remembered(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, _ = running
    fake.user_says(GROUP, BOB, "A1 hello")  # the bot learns @bob's id here
    await handled(adapter, 1)
    from bot.core.events import User

    nudge = Outgoing("nudge", "Hi bob! Q2 is open now", "Tea Chat", key="tea/1/nudge:x:1")
    for _ in range(2):
        ref = await adapter.port.send_dm(User("bob", "bob"), nudge)
        assert ref.channel_id == str(GROUP)
    shown = [m.text for m in fake.sent(GROUP)]
    assert shown == [f'<a href="tg://user?id={BOB}">bob</a> Hi bob! Q2 is open now'] * 2
    tried = [c for c in fake.calls("sendMessage") if int(c.params["chat_id"]) == BOB]
    assert len(tried) == 1  # the 403 was remembered


async def test_a_429_is_waited_out_and_the_post_lands_once(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, _ = running
    fake.fail_next("sendMessage", status=429, retry_after=1)
    ref = await adapter.port.post(str(GROUP), Outgoing("question", "Q1: Why & how?"))
    [posted] = fake.sent(GROUP)
    assert posted.text == "Q1: Why &amp; how?" and ref.message_id == str(posted.message_id)
    assert adapter.queue.waited == [1.0]


async def test_reach_is_the_groups_member_count(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, _ = running
    assert await adapter.port.member_count(str(GROUP)) == 42


async def test_the_webhook_refuses_a_wrong_or_missing_secret(fake: FakeTelegram) -> None:
    adapter = adapter_for(fake, mode="webhook", webhook_secret=SecretStr("s3cret-tea"))
    door = Door()
    await adapter.start(door)  # type: ignore[arg-type]
    try:
        url = f"http://127.0.0.1:{adapter.webhook_port}/telegram"
        update = {"update_id": 9, "message": fake.make_message(GROUP, ALICE, "A1 hi")}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with http.post(url, json=update, headers=headers) as answer:
                    assert answer.status == 401
            assert door.events == []
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-tea"}
            async with http.post(url, json=update, headers=right) as answer:
                assert answer.status == 200
        assert [e.text for e in door.events] == ["A1 hi"]  # type: ignore[union-attr]
    finally:
        await adapter.stop()


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.02)


async def test_a_question_opens_a_topic_in_a_forum_and_is_replied_to_elsewhere(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    adapter, _ = running
    plain = await adapter.port.post(
        str(GROUP), Outgoing("question", "Q1: Why tea?"), start_thread="Q1: Why tea?"
    )
    assert plain.thread_id == plain.message_id  # answers reply to the question itself
    forum = -1009999999999
    fake.add_group(forum, "Tea forum", is_forum=True)
    ref = await adapter.port.post(
        str(forum), Outgoing("question", "Q1: Why tea?"), start_thread="Q1: Why tea?"
    )
    [(topic, name)] = fake.topics(forum).items()
    assert name == "Q1: Why tea?" and ref.thread_id == str(topic)
    [asked] = fake.sent(forum)
    assert asked.thread_id == topic  # posted inside its topic


async def test_a_post_whose_answer_was_lost_is_sent_again_at_least_once(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram
) -> None:
    """No history search, no idempotency key: nothing to find, so the retry posts again."""
    from datetime import UTC, datetime

    from bot.core.ports import PortError

    adapter, _ = running
    fake.lose_answer_of_next("sendMessage")
    question = Outgoing("question", "Q1: Why tea?", key="tea/1/question:Q1")
    with pytest.raises(PortError):
        await adapter.port.post(str(GROUP), question)
    found = await adapter.port.find_post(
        str(GROUP), "tea/1/question:Q1", since=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert found is None
    await adapter.port.post(str(GROUP), question)
    assert [m.text for m in fake.sent(GROUP)] == ["Q1: Why tea?"] * 2  # shown twice, not lost


def test_http_requests_are_not_logged_line_by_line_unless_debugging() -> None:
    root, http = logging.getLogger(), logging.getLogger("httpx")
    before = root.level, http.level
    try:
        root.setLevel(logging.INFO)
        http.setLevel(logging.NOTSET)
        quiet_http_log()
        assert not http.isEnabledFor(logging.INFO)
        root.setLevel(logging.DEBUG)
        http.setLevel(logging.NOTSET)
        quiet_http_log()
        assert http.isEnabledFor(logging.INFO)
    finally:
        root.setLevel(before[0])
        http.setLevel(before[1])


async def test_a_chat_named_by_its_groups_username_posts_there_and_hears_it(
    fake: FakeTelegram,
) -> None:
    """``channel: "@teachat"``: the post goes to the group Telegram finds by that name, and a
    message there reaches the core as the chat's channel (its id or its @username)."""
    fake.add_group(-1005555555555, "Tea", username="teachat")
    fake.set_privacy(False)
    own = TelegramSettings(bot_token=SecretStr(fake.token), api_url=fake.base_url)
    plan = make_plan(platform="telegram", channel='"@teachat"', hosts=["role:admins"])
    options = TelegramOptions(port=0, poll_timeout=1, delete_after=0.05)
    adapter, door = TelegramAdapter(own, plan, SimClock(START), options), Door()
    await adapter.start(door)  # type: ignore[arg-type]
    try:
        ref = await adapter.port.post("@teachat", Outgoing("question", "Q1: Tea?", "Tea"))
        assert ref.channel_id == "-1005555555555"
        assert [m.text for m in fake.sent(-1005555555555)] == ["Q1: Tea?"]
        fake.user_says(-1005555555555, ALICE, "A1 oolong")
        await handled(adapter, 1)
        assert door.events[0].channel.matches("@teachat")  # type: ignore[union-attr]
    finally:
        await adapter.stop()


async def test_a_command_whose_answer_cannot_go_out_is_done_and_said_in_one_line(
    running: tuple[TelegramAdapter, Door], fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot was removed from the group: the host's /endchat still reaches the core, and
    the answer that cannot be sent is one warning, not a traceback of a 'skipped' update."""
    adapter, door = running
    kicked = "Forbidden: bot was kicked from the supergroup chat"
    fake.fail_next("sendMessage", status=403, description=kicked, times=2)
    with caplog.at_level(logging.WARNING, "chathost.telegram"):
        fake.user_sends_command(GROUP, BOB, "/endchat")
        await handled(adapter, 1)
    assert [c.name for c in door.commands] == ["endchat"]
    assert [h.outcome for h in adapter.journal.items] == ["unanswered"]
    [line] = [r for r in caplog.records if "could not answer" in r.getMessage()]
    assert kicked in line.getMessage() and line.exc_info is None


async def test_admins_may_start_spontaneous_chats_when_the_adhoc_section_names_them(
    fake: FakeTelegram,
) -> None:
    """``adhoc: {hosts: ["role:admins"]}`` with no chat of its own listing the role: the
    group's administrators are still asked, so kate's /startchat carries her admin role."""
    fake.set_privacy(False)
    own = TelegramSettings(bot_token=SecretStr(fake.token), api_url=fake.base_url)
    plan = parse_plan('adhoc: {hosts: ["role:admins"]}\n', platforms=["telegram"])
    options = TelegramOptions(port=0, poll_timeout=1, delete_after=0.05)
    adapter, door = TelegramAdapter(own, plan, SimClock(START), options), Door()
    await adapter.start(door)  # type: ignore[arg-type]
    try:
        fake.user_sends_command(GROUP, KATE, "/startchat Panel")
        fake.user_sends_command(GROUP, BOB, "/startchat Mine")
        await handled(adapter, 2)
        assert [(c.user.name, c.user.roles) for c in door.commands] == [
            ("kate", frozenset({"admins"})),
            ("bob", frozenset()),
        ]
        assert plan.may_start_adhoc(door.commands[0].user)
    finally:
        await adapter.stop()
