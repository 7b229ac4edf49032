"""Proves FakeTelegram speaks the Bot API well enough for the *real* python-telegram-bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChatAdministrators,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, MessageReactionHandler, filters

from .telegram_api import FakeTelegram

GROUP = -1001234567890
FORUM = -1009999999999
ALICE, BOB = 1001, 1002


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_group(GROUP)
        server.add_group(FORUM, "Forum", is_forum=True)
        server.add_user(ALICE, "alice", "Alice", started_bot=True, admin_of=(GROUP,))
        server.add_user(BOB, None, "Bob")
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.file_url) as b:
        yield b


async def test_get_me_reports_privacy(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.username == "TeaBot"
    assert bot.bot.can_read_all_group_messages is False
    fake.set_privacy(False)
    assert (await bot.get_me()).can_read_all_group_messages is True


async def test_wrong_token_is_invalid(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:WRONG", base_url=fake.base_url):
            pass


async def test_send_reply_edit_delete(fake: FakeTelegram, bot: Bot) -> None:
    said = fake.user_says(GROUP, ALICE, "hello")
    m = await bot.send_message(
        GROUP,
        "<b>hi</b> &amp; welcome",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(said["message_id"]),
    )
    assert m.message_id == said["message_id"] + 1
    assert m.from_user is not None and m.from_user.username == "TeaBot"
    assert m.text == "hi & welcome"
    edited = await bot.edit_message_text("changed", GROUP, m.message_id)
    assert isinstance(edited, Message) and edited.text == "changed"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("changed", GROUP, m.message_id)
    assert await bot.delete_message(GROUP, m.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.delete_message(GROUP, m.message_id)
    [record] = fake.sent(GROUP)
    assert (record.reply_to, record.parse_mode, record.edits, record.deleted) == (
        said["message_id"],
        "HTML",
        ["changed"],
        True,
    )


async def test_bad_html_and_long_text_are_bad_requests(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(GROUP, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(GROUP, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    # 4096 after the tags are gone is fine, as on Telegram
    await bot.send_message(GROUP, "<i>" + "x" * 4096 + "</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(GROUP, b"\x89PNG...", caption="c" * 1025)
    assert len(fake.sent(GROUP)) == 1


async def test_photo_arrives_as_bytes(bot: Bot, fake: FakeTelegram) -> None:
    m = await bot.send_photo(GROUP, b"\x89PNGDATA", caption="<b>pic</b>", parse_mode="HTML")
    assert m.caption == "pic" and m.photo
    assert fake.sent(GROUP)[0].photo == b"\x89PNGDATA"


async def test_dm_to_unstarted_user_is_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(BOB, "hi")
    await bot.send_message(ALICE, "hi")
    fake.user_says(BOB, BOB, "/start")  # Bob writes first: now the bot may answer
    await bot.send_message(BOB, "welcome")
    assert [m.chat_id for m in fake.sent()] == [ALICE, BOB]


async def test_429_becomes_retry_after(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "hi")
    assert "Retry in 7 seconds" in str(caught.value)
    await bot.send_message(GROUP, "hi")
    assert len(fake.sent(GROUP)) == 1


async def test_group_rate_limit_20_a_minute(fake: FakeTelegram) -> None:
    now = [1000.0]
    async with FakeTelegram(clock=lambda: now[0]) as paced:
        paced.add_group(GROUP)
        async with Bot(paced.token, base_url=paced.base_url) as b:
            for i in range(20):
                now[0] += 0.1
                await b.send_message(GROUP, f"m{i}")
            with pytest.raises(RetryAfter):
                await b.send_message(GROUP, "one too many")
            now[0] += 60
            await b.send_message(GROUP, "later")
        assert len(paced.sent(GROUP)) == 21


async def test_forum_topics_only_in_forums(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest):
        await bot.create_forum_topic(GROUP, "Q1")
    topic = await bot.create_forum_topic(FORUM, "Q1")
    m = await bot.send_message(FORUM, "in topic", message_thread_id=topic.message_thread_id)
    assert m.message_thread_id == topic.message_thread_id
    assert fake.topics(FORUM) == {topic.message_thread_id: "Q1"}
    assert fake.sent(FORUM)[0].thread_id == topic.message_thread_id


async def test_commands_by_scope(bot: Bot, fake: FakeTelegram) -> None:
    await bot.set_my_commands([BotCommand("nextq", "Next question")])
    await bot.set_my_commands([BotCommand("join", "Join")], scope=BotCommandScopeAllGroupChats())
    admins = BotCommandScopeChatAdministrators(GROUP)
    await bot.set_my_commands([BotCommand("skip", "Skip")], scope=admins)
    assert [c.command for c in await bot.get_my_commands(scope=admins)] == ["skip"]
    assert fake.my_commands("all_group_chats") == ["join"]
    assert fake.my_commands("chat_administrators", GROUP) == ["skip"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_chat_reads(bot: Bot) -> None:
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [ALICE]
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    assert await bot.get_chat_member_count(GROUP) == 42
    assert (await bot.get_chat(FORUM)).is_forum is True
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(-100)


async def test_lost_answer_sends_but_client_sees_network_error(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.lose_answer_of_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "did it land?")
    assert [m.text for m in fake.sent(GROUP)] == ["did it land?"]
    fake.down()
    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "nope")
    fake.up()
    await bot.send_message(GROUP, "yes")
    assert len(fake.sent(GROUP)) == 2


async def test_get_updates_in_order_acknowledged_and_filtered(bot: Bot, fake: FakeTelegram) -> None:
    said = fake.user_says(GROUP, ALICE, "one")
    fake.user_reacts(GROUP, said["message_id"], ALICE, ["👍"])
    fake.user_edits(GROUP, said["message_id"], "one!")
    first = await bot.get_updates(timeout=0)
    assert [u.message is not None for u in first] == [True, False]
    assert first[1].edited_message is not None and first[1].edited_message.text == "one!"
    again = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert again == ()
    fake.user_reacts(GROUP, said["message_id"], ALICE, ["🔥"], ["👍"])
    got = await bot.get_updates(timeout=0, allowed_updates=["message", "message_reaction"])
    assert got[0].message_reaction is not None
    fake.push_raw_update({"update_id": got[0].update_id, "message": said})  # Telegram resends
    repeat = await bot.get_updates(offset=got[0].update_id + 1, timeout=0)
    assert repeat == ()  # the offset already confirmed it
    assert [r.emoji for r in got[0].message_reaction.new_reaction] == ["🔥"]  # type: ignore[union-attr]


async def test_long_poll_waits_for_an_update(bot: Bot, fake: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    fake.user_sends_command(GROUP, ALICE, "/nextq@TeaBot 5")
    [update] = await poll
    assert update.message is not None and update.message.text == "/nextq@TeaBot 5"
    assert update.message.entities[0].type == "bot_command"


async def test_application_polling_sees_each_update_once(fake: FakeTelegram) -> None:
    seen: list[str] = []
    done = asyncio.Event()

    async def on_text(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")
        if len(seen) == 3:
            done.set()

    async def on_reaction(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append("reaction")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(MessageReactionHandler(on_reaction))
    raw = fake.user_says(GROUP, ALICE, "a")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=["message"])
        fake.user_reacts(GROUP, raw["message_id"], ALICE, ["👍"])
        fake.user_says(GROUP, BOB, "b")
        fake.user_says(GROUP, ALICE, "c")
        await asyncio.wait_for(done.wait(), 10)
        await app.updater.stop()
        await app.stop()
    assert seen == ["a", "b", "c"]
    assert fake.calls("getUpdates")[-1].params.get("offset", 0) >= fake.next_update_id - 1


async def test_webhook_round_trip_with_secret(bot: Bot, fake: FakeTelegram) -> None:
    got: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        got.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        fake.user_says(GROUP, ALICE, "hooked")
        fake.user_says(GROUP, ALICE, "twice")
        for _ in range(100):
            if len(got) == 2:
                break
            await asyncio.sleep(0.02)
        assert [(s, u["message"]["text"]) for s, u in got] == [
            ("s3cret", "hooked"),
            ("s3cret", "twice"),
        ]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and info.url.endswith("/hook")
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_30_a_second_overall_unless_limits_are_off() -> None:
    now = [50.0]
    async with FakeTelegram(clock=lambda: now[0]) as paced:
        for i in range(31):
            paced.add_user(i + 1, None, f"u{i}", started_bot=True)
        async with Bot(paced.token, base_url=paced.base_url) as b:
            for i in range(30):
                await b.send_message(i + 1, "hi")
            with pytest.raises(RetryAfter):
                await b.send_message(31, "hi")
            now[0] += 1
            await b.send_message(31, "hi")
    async with FakeTelegram(enforce_limits=False) as free:
        free.add_group(GROUP)
        async with Bot(free.token, base_url=free.base_url) as b:
            for i in range(25):
                await b.send_message(GROUP, f"m{i}")
        assert len(free.sent(GROUP)) == 25


async def test_raw_wire_json_body_and_error_shapes(fake: FakeTelegram) -> None:
    """What a client other than PTB sees: JSON bodies work, errors carry Telegram's shape."""
    base = f"{fake.base_url}{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": GROUP, "text": "j"}) as r:
            body = await r.json()
            assert r.status == 200 and body["ok"] and body["result"]["text"] == "j"
        async with http.post(f"{base}/noSuchMethod") as r:
            assert (r.status, (await r.json())["description"]) == (404, "Not Found")
        async with http.get(f"{fake.base_url}1:BAD/getMe") as r:
            assert (r.status, (await r.json())["error_code"]) == (401, 401)
        fake.fail_next("sendMessage", retry_after=3)
        async with http.post(f"{base}/sendMessage", json={"chat_id": GROUP, "text": "k"}) as r:
            body = await r.json()
            assert r.status == 429 and body["parameters"] == {"retry_after": 3}
            assert body["description"] == "Too Many Requests: retry after 3"
    assert [c.status for c in fake.calls("sendMessage")] == [200, 429]
