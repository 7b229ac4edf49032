"""The core's command table, as Telegram shows and sends it.

Registered with ``setMyCommands`` in three scopes, because Telegram shows a person the list of
the most specific scope that applies to them: each plan group's administrators get every
command (host ones included), all group chats and private chats the participant ones. Who may
really run a host command is still the core's decision (the plan's hosts); the scopes only
keep the menu honest.

A host picks an answer for the recap by replying to it with ``/highlight``, or with the
message's link (``https://t.me/c/1234567890/55``): Telegram has no message menus for bots.
"""

from __future__ import annotations

import logging
import re

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChatAdministrators,
    BotCommandScopeDefault,
    Message,
)
from telegram.error import TelegramError

from bot.core.commands import COMMANDS, ArgKind, CommandSpec, Who, command_named, message_ids

log = logging.getLogger("chathost.telegram")

DESCRIPTION_LIMIT = 256
# t.me/c/<chat without -100>/<message>, t.me/<username>/<message>, either with a topic id
# between them (t.me/c/123/7/55).
_LINK = re.compile(r"^(?:https?://)?t\.me/(?:c/)?[\w]+/(?:\d+/)?(\d+)(?:\?.*)?$")


def bot_commands(who: Who | None) -> list[BotCommand]:
    """The table's commands for one audience (None: everyone's, host commands included)."""
    return [
        BotCommand(spec.name, spec.description[:DESCRIPTION_LIMIT])
        for spec in COMMANDS
        if who is None or spec.who is who
    ]


async def register(bot: Bot, group_ids: list[int]) -> None:
    """Overwrite the menus (idempotent): a failure is logged, commands still work typed."""
    try:
        participant = bot_commands(Who.ANYONE)
        await bot.set_my_commands(participant, scope=BotCommandScopeDefault())
        await bot.set_my_commands(participant, scope=BotCommandScopeAllGroupChats())
        for chat_id in group_ids:
            await bot.set_my_commands(
                bot_commands(None), scope=BotCommandScopeChatAdministrators(chat_id)
            )
    except TelegramError as exc:
        log.warning("could not register the command menus with Telegram: %s", exc)


def read_link(word: str) -> str | None:
    """The message id a Telegram message link names, or None when the word is not one."""
    match = _LINK.match(word.strip())
    return match.group(1) if match else None


def with_message(spec: CommandSpec | None, args: str, message: Message) -> str:
    """A command's arguments with the message it is about as its id: a link read, or the
    message the command replies to when no message was named."""
    if spec is None or not any(a.kind is ArgKind.MESSAGE for a in spec.args):
        return args
    args = message_ids(spec, args, read_link)
    reply = message.reply_to_message
    if not args and reply is not None and reply.message_id != message.message_thread_id:
        return str(reply.message_id)
    return args


def known(name: str) -> bool:
    return command_named(name) is not None
