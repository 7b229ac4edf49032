"""The discord.py client: gateway events in, translated, handed to the core's ChatService.

Raw events (``on_raw_*``) are used for edits, deletes and reactions so that messages older
than discord.py's message cache (or from before a restart) still count. Every handler catches
and logs its own failures: one odd payload must never stop the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
import yarl

from bot.adapters.discord import translate
from bot.adapters.discord.config import DiscordConfig
from bot.adapters.discord.port import Activity
from bot.adapters.discord.translate import Place
from bot.core.clock import Clock
from bot.core.events import PlatformEvent
from bot.core.service import ChatService

log = logging.getLogger("chathost.discord")

_PLACES_KEPT = 2048  # channels looked up over REST (uncached threads), remembered


def intents() -> discord.Intents:
    """Only what chathost reads. ``message_content`` is privileged: switch it on in the
    developer portal (Bot -> Privileged Gateway Intents). Members are not needed: names are
    looked up on demand, which works without the privileged Members intent."""
    wanted = discord.Intents.none()
    wanted.guilds = True  # channels, threads, roles
    wanted.guild_messages = True  # messages, edits, deletes in channels and threads
    wanted.message_content = True  # the text of those messages
    wanted.guild_reactions = True  # reactions added and removed
    return wanted


@dataclass(frozen=True)
class Handled:
    """What became of one inbound event: kept briefly for health checks and tests."""

    kind: str  # message, edit, delete, reaction
    ident: str  # the Discord message id
    outcome: str  # stored, unchanged, skipped, error


class Journal:
    """The last inbound outcomes, awaitable: tests wait on it instead of sleeping."""

    def __init__(self, keep: int = 1000) -> None:
        self.items: deque[Handled] = deque(maxlen=keep)
        self._changed = asyncio.Condition()

    async def add(self, item: Handled) -> None:
        self.items.append(item)
        async with self._changed:
            self._changed.notify_all()

    def matching(self, kind: str, ident: str | int) -> list[Handled]:
        return [h for h in self.items if h.kind == kind and h.ident == str(ident)]

    async def wait_for(
        self, kind: str, ident: str | int, count: int = 1, timeout: float = 5.0
    ) -> list[Handled]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.matching(kind, ident)) >= count)
        return self.matching(kind, ident)


class Inbound:
    """Turns gateway events into core events for the ChatService."""

    def __init__(self, client: discord.Client, config: DiscordConfig, clock: Clock) -> None:
        self.client = client
        self.config = config
        self.clock = clock
        self.service: ChatService | None = None
        self.journal = Journal()
        self.activity = Activity()
        self._places: OrderedDict[int, Place | None] = OrderedDict()
        # discord.py runs each event in its own task; a lock per channel, taken before the
        # first await, keeps a message, its quick edit and its reactions in arrival order.
        self._order: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._arrived: dict[int, str] = {}

    async def locate(self, channel_id: int | None) -> Place | None:
        """Where a channel id is (a thread -> its parent); cached channels first, else REST."""
        if channel_id is None:
            return None
        channel = self.client.get_channel(channel_id)
        if channel is not None:
            return translate.where(channel)
        if channel_id in self._places:
            return self._places[channel_id]
        try:
            place = translate.where(await self.client.fetch_channel(channel_id))
        except discord.HTTPException as exc:
            log.info("cannot see channel %s (%s); its events are skipped", channel_id, exc)
            place = None
        self._places[channel_id] = place
        while len(self._places) > _PLACES_KEPT:
            self._places.popitem(last=False)
        return place

    async def locate_interaction(self, interaction: discord.Interaction) -> Place | None:
        return await self.locate(interaction.channel_id)

    def _ours(self, place: Place | None) -> Place | None:
        """Only guilds we were configured for (the bot may sit in others)."""
        if place is None:
            return None
        if self.config.guild_ids and place.guild_id not in self.config.guild_ids:
            return None
        return place

    @property
    def _bot_id(self) -> int | None:
        return self.client.user.id if self.client.user else None

    async def _handle(
        self,
        kind: str,
        ident: int,
        make: Callable[[Place], Awaitable[PlatformEvent | None]],
        channel_id: int | None,
    ) -> None:
        """Locate, translate (``make`` gets the place), hand over, and journal the outcome."""
        async with self._order[channel_id or 0], self.activity.track():
            outcome = "skipped"
            try:
                place = self._ours(await self.locate(channel_id))
                event: PlatformEvent | None = await make(place) if place is not None else None
                if event is not None and self.service is not None:
                    changed = await self.service.on_event(event)
                    outcome = "stored" if changed else "unchanged"
            except Exception:
                outcome = "error"
                log.exception("could not handle Discord %s %s; skipped", kind, ident)
            log.debug("discord %s %s: %s", kind, ident, outcome)
            await self.journal.add(Handled(kind, str(ident), outcome))

    # the events

    def arrived(self, message: discord.Message) -> None:
        """Called as the gateway parses MESSAGE_CREATE: discord.py edits its cached Message in
        place when a MESSAGE_UPDATE follows, possibly before our handler ran, so the text is
        taken now."""
        if translate.is_from_people(message, self._bot_id):
            self._arrived[message.id] = translate.message_text(message)

    async def on_message(self, message: discord.Message) -> None:
        text = self._arrived.pop(message.id, None)

        async def make(place: Place) -> PlatformEvent | None:
            return translate.incoming(
                message,
                place,
                bot_id=self._bot_id,
                host_roles=self.config.host_roles,
                text=text,
            )

        await self._handle("message", message.id, make, message.channel.id)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        async def make(place: Place) -> PlatformEvent | None:
            return translate.edited(payload, place, bot_id=self._bot_id, now=self.clock.now())

        await self._handle("edit", payload.message_id, make, payload.channel_id)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        async def make(place: Place) -> PlatformEvent | None:
            return translate.deleted(payload, place, now=self.clock.now())

        await self._handle("delete", payload.message_id, make, payload.channel_id)

    async def on_raw_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.user_id == self._bot_id:
            return

        async def make(place: Place) -> PlatformEvent | None:
            user = payload.member or self.client.get_user(payload.user_id)
            if user is not None and user.bot:
                return None
            return translate.reaction(payload, place, user, now=self.clock.now())

        await self._handle("reaction", payload.message_id, make, payload.channel_id)


class _Events:
    """discord.py calls ``on_<event>`` methods; these forward to the Inbound."""

    inbound: Inbound
    gateway_url: str | None

    async def setup_hook(self) -> None:
        """Runs after login, before connecting: the place to point at a gateway proxy
        (a plain Client dials DiscordWebSocket.DEFAULT_GATEWAY without asking /gateway)."""
        if self.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        if event == "message" and args and isinstance(args[0], discord.Message):
            self.inbound.arrived(args[0])
        super().dispatch(event, *args, **kwargs)  # type: ignore[misc]

    async def on_ready(self) -> None:
        me = self.user  # type: ignore[attr-defined]
        guilds = ", ".join(g.name for g in self.guilds)  # type: ignore[attr-defined]
        log.info("connected to Discord as %s; servers: %s", me, guilds or "none yet")

    async def on_resumed(self) -> None:
        log.info("Discord gateway session resumed")

    async def on_message(self, message: discord.Message) -> None:
        await self.inbound.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.inbound.on_raw_message_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.inbound.on_raw_message_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.inbound.on_raw_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.inbound.on_raw_reaction(payload)


class ChathostClient(_Events, discord.Client):
    """One gateway connection: enough for bots in up to a couple of thousand servers."""


class ShardedChathostClient(_Events, discord.AutoShardedClient):
    """Several gateway connections (shards) in one process, for large bots."""


def guard_parsers(client: discord.Client) -> None:
    """Make each gateway payload parser log and skip what it cannot parse.

    discord.py lets a parser's exception (a payload missing a field it expects) escape the
    gateway loop, which ends ``connect``: one malformed event would disconnect the bot.
    ``ConnectionState.parsers`` is the table the gateway reads (discord.py 2.x internals).
    """
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers

    def guarded(event: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(data: Any) -> None:
            try:
                parse(data)
            except Exception:
                log.exception("skipped a %s payload discord.py could not read", event)

        return run

    for event, parse in list(parsers.items()):
        parsers[event] = guarded(event, parse)


def make_client(config: DiscordConfig, clock: Clock) -> tuple[discord.Client, Inbound]:
    """The client for the configuration (sharded or not) and its Inbound."""
    # chathost never joins a voice channel: discord.py's warnings that the voice libraries
    # are missing would be the first lines every user reads, and about nothing they need.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    options: dict[str, Any] = {
        "intents": intents(),
        "allowed_mentions": discord.AllowedMentions(everyone=False, roles=False),
        "guild_ready_timeout": config.guild_ready_timeout,
        "max_ratelimit_timeout": config.max_ratelimit_timeout,
        "chunk_guilds_at_startup": False,
    }
    client: discord.Client
    if config.shards is None:
        client = ChathostClient(**options)
    else:
        count = None if config.shards == "auto" else config.shards
        client = ShardedChathostClient(shard_count=count, **options)
    guard_parsers(client)
    inbound = Inbound(client, config, clock)
    client.inbound = inbound  # type: ignore[attr-defined]
    client.gateway_url = config.gateway_url  # type: ignore[attr-defined]
    return client, inbound
