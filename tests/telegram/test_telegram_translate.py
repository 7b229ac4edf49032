"""Telegram updates -> the core's events, on real python-telegram-bot objects parsed from the
JSON Telegram sends (``Update.de_json``)."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from bot.adapters.telegram import commands, translate
from bot.core.commands import command_named

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Tea chat", "username": "teachat"}
FORUM = {**GROUP, "is_forum": True}
BOB = {"id": 42, "is_bot": False, "first_name": "Bob", "username": "bob"}
BOT = Bot("123456:TEST-TOKEN")


def update(**fields: Any) -> Update:
    parsed = Update.de_json({"update_id": 7, **fields}, BOT)
    assert parsed is not None
    return parsed


def message(text: str, message_id: int = 10, chat: dict[str, Any] = GROUP, **more: Any) -> Any:
    base = {"message_id": message_id, "date": 1764617100, "chat": chat, "from": BOB}
    return {**base, "text": text, **more}


def test_a_message_in_the_group_is_the_cores_message_from_that_person() -> None:
    event = translate.incoming(update(message=message("A1 oolong")).message, bot_id=1)
    assert event is not None
    assert (event.channel.id, event.channel.name) == ("-1001234567890", "@teachat")
    assert (event.user.id, event.user.name, event.user.display) == ("42", "bob", "Bob")
    assert (event.text, event.thread_id, event.reply_to) == ("A1 oolong", None, None)
    assert event.channel.matches("@teachat") and event.channel.matches("-1001234567890")


def test_a_reply_is_in_the_thread_of_the_message_it_replies_to() -> None:
    parent = message("Q1: Why tea?", message_id=5)
    reply = message("for the calm", message_id=11, reply_to_message=parent)
    event = translate.incoming(update(message=reply).message, bot_id=1)
    assert event is not None and (event.thread_id, event.reply_to) == ("5", "5")


def test_a_forum_topic_message_is_in_its_topic_and_the_topic_root_is_no_reply() -> None:
    root = message("", message_id=3, chat=FORUM)
    inside = message(
        "in the topic",
        message_id=12,
        chat=FORUM,
        message_thread_id=3,
        is_topic_message=True,
        reply_to_message=root,
    )
    event = translate.incoming(update(message=inside).message, bot_id=1)
    assert event is not None and (event.thread_id, event.reply_to) == ("3", None)


def test_a_hidden_link_is_shown_with_its_address() -> None:
    text = "see 🍵 this"
    entity = {"type": "text_link", "offset": 7, "length": 4, "url": "https://example.org/t"}
    event = translate.incoming(update(message=message(text, entities=[entity])).message, bot_id=1)
    assert event is not None and event.text == "see 🍵 this (https://example.org/t)"


def test_bots_and_private_chats_are_not_chat() -> None:
    from_bot = message("hello", **{"from": {**BOB, "is_bot": True}})
    assert translate.incoming(update(message=from_bot).message, bot_id=1) is None
    private = message("hi", chat={"id": 42, "type": "private", "first_name": "Bob"})
    assert translate.incoming(update(message=private).message, bot_id=1) is None


def test_an_edit_is_the_cores_edit() -> None:
    edited = message("A1 green tea", edit_date=1764617200)
    event = translate.edited(update(edited_message=edited).edited_message, bot_id=1)
    assert event is not None and (event.message_id, event.text) == ("10", "A1 green tea")


def test_a_reaction_change_is_each_addition_and_removal() -> None:
    change = {
        "chat": GROUP,
        "message_id": 10,
        "user": BOB,
        "date": 1764617300,
        "old_reaction": [{"type": "emoji", "emoji": "👍"}],
        "new_reaction": [{"type": "emoji", "emoji": "🔥"}, {"type": "emoji", "emoji": "🏆"}],
    }
    events = translate.reactions(update(message_reaction=change).message_reaction)
    assert [(e.emoji, e.added, e.user.id) for e in events] == [
        ("👍", False, "42"),
        ("🏆", True, "42"),
        ("🔥", True, "42"),
    ]


def test_an_anonymous_admin_reacts_as_the_group() -> None:
    change = {
        "chat": GROUP,
        "message_id": 10,
        "actor_chat": GROUP,
        "date": 1764617300,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "❤"}],
    }
    [event] = translate.reactions(update(message_reaction=change).message_reaction)
    assert (event.user.id, event.user.name, event.added) == ("-1001234567890", "teachat", True)


def command_in(text: str, **more: Any) -> Any:
    word = text.split()[0]
    entity = {"type": "bot_command", "offset": 0, "length": len(word)}
    return update(message=message(text, entities=[entity], **more)).message


def test_a_command_addressed_to_this_bot_or_to_none_is_ours() -> None:
    assert translate.typed_command(command_in("/nextq@TeaBot 5"), "TeaBot") == (
        translate.Typed("nextq", "5")
    )
    assert translate.typed_command(command_in("/nextq"), "TeaBot") == translate.Typed("nextq", "")
    assert translate.typed_command(command_in("/nextq@OtherBot"), "TeaBot") is None
    assert translate.typed_command(update(message=message("nextq")).message, "TeaBot") is None


def test_highlight_takes_the_message_it_replies_to_or_a_link() -> None:
    spec = command_named("highlight")
    parent = message("A1 oolong", message_id=55)
    replying = command_in("/highlight", reply_to_message=parent)
    assert commands.with_message(spec, "", replying) == "55"
    linked = command_in("/highlight https://t.me/c/1234567890/56")
    assert commands.with_message(spec, "https://t.me/c/1234567890/56", linked) == "56"
    assert commands.read_link("t.me/teachat/7/57") == "57"
    assert commands.read_link("https://example.org/57") is None


def test_the_menus_come_from_the_command_table() -> None:
    everyone = {c.command for c in commands.bot_commands(None)}
    participants = {c.command for c in commands.bot_commands(commands.Who.ANYONE)}
    assert {"nextq", "startchat", "highlight"} <= everyone - participants
    assert {"quietchat", "forgetme", "chats", "chatstatus"} == participants
