"""discord.py objects -> the core's events. Pure: no I/O, no client state.

Where a message lives is resolved by the caller (``where``) because a thread's parent may need
a REST lookup; everything here only reads the objects it is given.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import discord

from bot.core.events import (
    EVERY_CHAT_HOST,
    ChannelRef,
    Command,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    User,
)

PLATFORM = "discord"

# Message types that are people talking; joins, pins, thread-created notices etc. are not.
_SPOKEN = frozenset({discord.MessageType.default, discord.MessageType.reply})


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a message is, in the core's terms: a thread's messages belong to its parent."""

    channel: ChannelRef
    thread_id: str | None = None
    guild_id: int | None = None


def where(channel: object) -> Place | None:
    """The place of a guild channel or thread; None for DMs and unknown kinds."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        name = parent.name if parent is not None else ""
        return Place(ChannelRef(str(channel.parent_id), name), str(channel.id), channel.guild.id)
    if isinstance(channel, discord.abc.GuildChannel) and isinstance(
        channel, discord.abc.Messageable
    ):
        return Place(ChannelRef(str(channel.id), channel.name), None, channel.guild.id)
    return None


def has_role(member: object, roles: tuple[str, ...]) -> bool:
    """True when a guild member holds one of ``roles`` (by name, case-insensitively, or id)."""
    if not roles or not isinstance(member, discord.Member):
        return False
    wanted = {r.lower().lstrip("@") for r in roles}
    return any(r.name.lower() in wanted or str(r.id) in wanted for r in member.roles)


def core_user(author: discord.abc.User, host_roles: tuple[str, ...] = ()) -> User:
    """Both the id and the name go to the core: plans list hosts either way, and roles too
    (``role:Tea Hosts``), so a member's roles go along by name and by id. A member holding
    one of DISCORD_HOST_ROLE's roles hosts every chat: the core's ``EVERY_CHAT_HOST``."""
    roles = member_roles(author)
    if has_role(author, host_roles):
        roles |= {EVERY_CHAT_HOST}
    return User(
        id=str(author.id),
        name=author.name,
        is_bot=author.bot,
        display=author.display_name,
        roles=roles,
    )


def member_roles(member: object) -> frozenset[str]:
    """A guild member's roles, each by name and by id (``@everyone`` left out: it would make
    everybody a host of a plan that lists it; so is a role named like the core's marker)."""
    if not isinstance(member, discord.Member):
        return frozenset()
    held = [r for r in member.roles if not r.is_default() and r.name != EVERY_CHAT_HOST]
    return frozenset(name for r in held for name in (r.name, str(r.id)))


def message_text(message: discord.Message) -> str:
    """What was said, mentions shown as names; attachments as ``[name]`` placeholders (their
    signed CDN links expire, so storing them would only keep dead links)."""
    parts = [message.clean_content] if message.content else []
    parts += [f"[{a.filename}]" for a in message.attachments]
    return " ".join(parts).strip()


def is_from_people(message: discord.Message, bot_id: int | None) -> bool:
    """Bots, webhooks (incl. our interaction replies) and system messages are not chat."""
    return (
        not message.author.bot
        and message.author.id != bot_id
        and message.webhook_id is None
        and message.type in _SPOKEN
    )


def incoming(
    message: discord.Message,
    place: Place,
    *,
    bot_id: int | None,
    host_roles: tuple[str, ...] = (),
    text: str | None = None,
) -> IncomingMessage | None:
    """``text``: the text as it arrived, if the cached message may have been edited since."""
    if not is_from_people(message, bot_id):
        return None
    text = message_text(message) if text is None else text
    if not text:
        return None
    ref = message.reference
    reply_to = str(ref.message_id) if ref is not None and ref.message_id else None
    return IncomingMessage(
        platform=PLATFORM,
        channel=place.channel,
        message_id=str(message.id),
        user=core_user(message.author, host_roles),
        text=text,
        at=message.created_at,
        thread_id=place.thread_id,
        reply_to=reply_to,
    )


def edited(
    payload: discord.RawMessageUpdateEvent, place: Place, *, bot_id: int | None, now: datetime
) -> MessageEdited | None:
    """An edit; None when it is not a person's text changing (embeds unfurling, bots)."""
    if "content" not in payload.data:
        return None
    message = payload.message
    if not is_from_people(message, bot_id):
        return None
    return MessageEdited(
        platform=PLATFORM,
        channel=place.channel,
        message_id=str(payload.message_id),
        text=message_text(message),
        at=message.edited_at or now,
    )


def deleted(
    payload: discord.RawMessageDeleteEvent, place: Place, *, now: datetime
) -> MessageDeleted:
    return MessageDeleted(PLATFORM, place.channel, str(payload.message_id), now)


def emoji_name(emoji: discord.PartialEmoji) -> str:
    """Unicode emoji as the character itself, custom ones by name (``partyparrot``)."""
    return emoji.name or str(emoji.id)


def reaction(
    payload: discord.RawReactionActionEvent,
    place: Place,
    user: discord.abc.User | None,
    *,
    now: datetime,
) -> ReactionChanged:
    who = (
        core_user(user)
        if user is not None
        else User(id=str(payload.user_id), name=str(payload.user_id))
    )
    return ReactionChanged(
        platform=PLATFORM,
        channel=place.channel,
        message_id=str(payload.message_id),
        user=who,
        emoji=emoji_name(payload.emoji),
        added=payload.event_type == "REACTION_ADD",
        at=now,
    )


def command(
    interaction: discord.Interaction,
    name: str,
    args: str,
    place: Place | None,
    host_roles: tuple[str, ...] = (),
) -> Command:
    """A slash command; outside a guild channel (a DM) the channel is the DM's id."""
    channel = place.channel if place else ChannelRef(str(interaction.channel_id or ""), "")
    return Command(
        platform=PLATFORM,
        channel=channel,
        user=core_user(interaction.user, host_roles),
        name=name,
        at=interaction.created_at,
        args=args.strip(),
    )
