"""Guild scheduled events: the core's EventPort on Discord (bot/core/ports.py).

A text-channel chat is an EXTERNAL event: Discord wants a location (1-100 characters, here
"#channel") and an end time; names hold 1-100 characters, descriptions 1,000; the bot needs
the Manage Events permission. An event id is kept as ``<guild id>/<event id>``: every call
on an event names its guild.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from typing import TypeVar

import discord

from bot.core.plan import Chat
from bot.core.ports import EventDetails, EventStatus, PortError

log = logging.getLogger("chathost.discord.events")

T = TypeVar("T")

NAME_LIMIT = 100  # Discord: a scheduled event's name, 1-100 characters
LOCATION_LIMIT = 100  # entity_metadata.location, 1-100 characters
DESCRIPTION_LIMIT = 1000  # a scheduled event's description
# Said once per server at start-up (a Discord-only sentence, so it lives with the adapter).
MISSING_MANAGE_EVENTS = (
    "The bot lacks the Manage Events permission in {guild}, which chats with events: true "
    "need: grant it to the bot's role (Server Settings > Roles), or invite it again with the "
    "URL from chathost discord-invite."
)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split(event_id: str) -> tuple[int, int]:
    guild_id, _, event = event_id.partition("/")
    if not (guild_id.isdigit() and event.isdigit()):
        raise PortError(f"{event_id!r} is not a Discord event id", permanent=True)
    return int(guild_id), int(event)


class DiscordEvents:
    """Mixed into DiscordPort: it brings ``client``, ``resolve_channel`` and the calls'
    error mapping (``_call``, port.py's ``platform_call``)."""

    client: discord.Client

    async def _call(self, what: str, call: Awaitable[T]) -> T:
        raise NotImplementedError

    async def resolve_channel(self, wanted: str) -> discord.TextChannel | discord.VoiceChannel:
        raise NotImplementedError

    async def save_event(self, event_id: str | None, details: EventDetails) -> str:
        channel = await self.resolve_channel(details.channel)
        fields = {
            "name": _fit(details.title, NAME_LIMIT),
            "description": _fit(details.description, DESCRIPTION_LIMIT),
            "end_time": details.end,
            "entity_type": discord.EntityType.external,
            "location": _fit(f"#{channel.name}", LOCATION_LIMIT),
            "privacy_level": discord.PrivacyLevel.guild_only,
        }
        if event_id is None:
            made = await self._call(
                "create the event",
                channel.guild.create_scheduled_event(start_time=details.start, **fields),
            )
            return f"{channel.guild.id}/{made.id}"
        event = await self._event(event_id)
        if event.status is discord.EventStatus.scheduled:
            fields["start_time"] = details.start  # an active event's start is history
        await self._call("edit the event", event.edit(**fields))
        return event_id

    async def set_event_status(self, event_id: str, status: EventStatus) -> None:
        """Each move is made only from the status it leaves, so a repeated step is a no-op."""
        event = await self._event(event_id)
        now = event.status
        if status == "active" and now is discord.EventStatus.scheduled:
            await self._call("start the event", event.start())
        elif status == "completed" and now is discord.EventStatus.active:
            await self._call("end the event", event.end())
        elif status == "canceled" and now is discord.EventStatus.scheduled:
            await self._call("cancel the event", event.cancel())

    async def event_interested(self, event_id: str) -> int | None:
        return (await self._event(event_id)).user_count

    async def find_event(self, details: EventDetails) -> str | None:
        """An event the bot made for this run: same name, start and location (Discord's
        events carry no nonce)."""
        channel = await self.resolve_channel(details.channel)
        found = await self._call(
            "list the events", channel.guild.fetch_scheduled_events(with_counts=False)
        )
        me = self.client.user.id if self.client.user else None
        for event in found:
            same = (event.name, event.start_time, event.location) == (
                _fit(details.title, NAME_LIMIT),
                details.start,
                _fit(f"#{channel.name}", LOCATION_LIMIT),
            )
            if same and event.creator_id == me:
                return f"{channel.guild.id}/{event.id}"
        return None

    async def _event(self, event_id: str) -> discord.ScheduledEvent:
        guild_id, event = _split(event_id)
        guild = self.client.get_guild(guild_id)
        if guild is None:
            raise PortError(f"the bot is not in guild {guild_id}", permanent=True)
        return await self._call(
            "read the event", guild.fetch_scheduled_event(event, with_counts=True)
        )


async def missing_manage_events(port: DiscordEvents, chats: Iterable[Chat]) -> list[str]:
    """One line per guild where a chat with ``events: true`` runs and the bot may not
    manage events: said at start-up, so the host grants it before the first event is due."""
    guilds: dict[int, discord.Guild] = {}
    for chat in chats:
        if not chat.events:
            continue
        try:
            channel = await port.resolve_channel(chat.channel)
        except PortError as exc:
            log.warning("could not check the Manage Events permission for %s: %s", chat.id, exc)
            continue
        guilds[channel.guild.id] = channel.guild
    lines = []
    for guild in guilds.values():
        if guild.me is not None and not guild.me.guild_permissions.manage_events:
            lines.append(MISSING_MANAGE_EVENTS.format(guild=guild.name))
    return lines
