"""python-telegram-bot objects -> the core's events. Pure: no I/O, no bot state.

Where a message belongs: in a forum, a topic message's thread is its topic; elsewhere a
reply's thread is the message it replies to (Telegram's own ``message_thread_id`` for reply
chains in supergroups where it sends one). A question asked in a plain group is the root of
the replies to it, so both count as the question's thread for attribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import (
    Chat,
    Message,
    MessageEntity,
    MessageReactionUpdated,
    ReactionType,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
)
from telegram import User as TgUser

from bot.core.events import (
    ChannelRef,
    Command,
    IncomingMessage,
    MessageEdited,
    ReactionChanged,
    User,
)

PLATFORM = "telegram"
GROUP_KINDS = frozenset({Chat.GROUP, Chat.SUPERGROUP})


def channel_of(chat: Chat) -> ChannelRef:
    """A group by its id (``-100...``); plans may also name it ``@username``."""
    name = f"@{chat.username}" if chat.username else chat.title or ""
    return ChannelRef(str(chat.id), name)


def core_user(user: TgUser, roles: frozenset[str] = frozenset()) -> User:
    """The id, the @username (plans list hosts by it) and the name people see."""
    return User(
        id=str(user.id),
        name=user.username or user.full_name,
        is_bot=user.is_bot,
        display=user.full_name if user.username else "",
        roles=roles,
    )


def utc(when: datetime | None) -> datetime:
    if when is None:
        return datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def plain_text(text: str, entities: Sequence[MessageEntity]) -> str:
    """Text as people read it: a hidden link (``text_link``) shown as ``label (url)``.
    Offsets are UTF-16 code units, as Telegram counts them."""
    links = sorted(
        (e for e in entities if e.type == MessageEntity.TEXT_LINK and e.url),
        key=lambda e: e.offset,
        reverse=True,
    )
    if not links:
        return text
    units = text.encode("utf-16-le")
    for entity in links:
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        label = units[start:end].decode("utf-16-le")
        shown = f"{label} ({entity.url})" if label != entity.url else label
        units = units[:start] + shown.encode("utf-16-le") + units[end:]
    return units.decode("utf-16-le")


def message_text(message: Message) -> str:
    """The text, or a photo's caption; other media count only by their caption."""
    if message.text is not None:
        return plain_text(message.text, message.entities)
    if message.caption is not None:
        return plain_text(message.caption, message.caption_entities)
    return ""


def thread_and_reply(message: Message) -> tuple[str | None, str | None]:
    reply = message.reply_to_message
    reply_id = reply.message_id if reply is not None else None
    thread = message.message_thread_id
    if message.is_topic_message and thread:
        # Telegram makes every topic message "reply" to the topic's first message.
        return str(thread), (str(reply_id) if reply_id not in (None, thread) else None)
    if thread:
        return str(thread), (str(reply_id) if reply_id is not None else None)
    if reply_id is not None:
        return str(reply_id), str(reply_id)
    return None, None


def is_from_people(message: Message, bot_id: int | None) -> bool:
    """Bots (this one included) and service messages (joins, topic created...) are not chat."""
    author = message.from_user
    return author is not None and not author.is_bot and author.id != bot_id


def incoming(
    message: Message, *, bot_id: int | None, roles: frozenset[str] = frozenset()
) -> IncomingMessage | None:
    if message.chat.type not in GROUP_KINDS or not is_from_people(message, bot_id):
        return None
    text = message_text(message)
    if not text:
        return None
    assert message.from_user is not None
    thread, reply_to = thread_and_reply(message)
    return IncomingMessage(
        platform=PLATFORM,
        channel=channel_of(message.chat),
        message_id=str(message.message_id),
        user=core_user(message.from_user, roles),
        text=text,
        at=utc(message.date),
        thread_id=thread,
        reply_to=reply_to,
    )


def edited(message: Message, *, bot_id: int | None) -> MessageEdited | None:
    if message.chat.type not in GROUP_KINDS or not is_from_people(message, bot_id):
        return None
    return MessageEdited(
        platform=PLATFORM,
        channel=channel_of(message.chat),
        message_id=str(message.message_id),
        text=message_text(message),
        at=utc(message.edit_date or message.date),
    )


def reaction_name(reaction: ReactionType) -> str | None:
    """A unicode emoji as itself, a custom one by its id; paid stars are not a reaction."""
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return reaction.custom_emoji_id
    return None


def reactions(
    update: MessageReactionUpdated, roles: frozenset[str] = frozenset()
) -> list[ReactionChanged]:
    """One change of someone's reactions as the events it is: Telegram sends the old and the
    new list, so swapping 👍 for 🔥 is a removal and an addition. An anonymous admin reacts
    as the group itself (``actor_chat``)."""
    if update.chat.type not in GROUP_KINDS:
        return []
    if update.user is not None:
        if update.user.is_bot:
            return []
        who = core_user(update.user, roles)
    elif update.actor_chat is not None:
        actor = update.actor_chat
        who = User(id=str(actor.id), name=actor.username or actor.title or str(actor.id))
    else:
        return []
    old = {n for r in update.old_reaction if (n := reaction_name(r))}
    new = {n for r in update.new_reaction if (n := reaction_name(r))}
    changes = [(e, False) for e in sorted(old - new)] + [(e, True) for e in sorted(new - old)]
    return [
        ReactionChanged(
            platform=PLATFORM,
            channel=channel_of(update.chat),
            message_id=str(update.message_id),
            user=who,
            emoji=emoji,
            added=added,
            at=utc(update.date),
        )
        for emoji, added in changes
    ]


@dataclass(frozen=True)
class Typed:
    """A command as typed: ``/nextq@TeaBot 5`` -> ``nextq``, ``5``."""

    name: str
    args: str


def typed_command(message: Message, bot_username: str | None) -> Typed | None:
    """The command a message starts with, if it is ours: ``/nextq@OtherBot`` is not."""
    text = message.text or ""
    first = message.entities[0] if message.entities else None
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    word = text[: first.length]
    rest = text[first.length :].strip()
    name, _, addressed = word.lstrip("/").partition("@")
    if addressed and bot_username and addressed.lower() != bot_username.lower():
        return None
    return Typed(name.lower(), rest)


def command(message: Message, typed: Typed, user: User) -> Command:
    """Outside a group (a DM) the channel is the DM's id: the core then asks for the chat."""
    return Command(
        platform=PLATFORM,
        channel=channel_of(message.chat),
        user=user,
        name=typed.name,
        at=utc(message.date),
        args=typed.args,
    )
