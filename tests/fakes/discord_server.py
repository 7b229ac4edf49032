"""A local fake Discord (REST API + gateway websocket) that the *real* discord.py talks to.

Why: the Discord adapter must be tested through discord.py's own code (payload parsing, the
ready/chunking dance, interactions, threads, rate-limit retries, RESUME), so instead of mocking
discord.py we point it at this server::

    async with FakeDiscord() as fake:            # also patches discord.py (see point_discord_at)
        client = discord.Client(intents=discord.Intents.all(), guild_ready_timeout=0.05)
        await client.login("any-token")
        task = asyncio.create_task(client.connect())
        await client.wait_until_ready()
        await fake.user_says("general", "alice", "hello")   # -> on_message
        await client.get_channel(fake.channel("general").id).send("hi")
        assert fake.messages_sent()[0].json["content"] == "hi"
        await client.close(); await task

How discord.py is redirected (checked against discord.py 2.7 sources):

* REST: every call builds ``discord.http.Route(...)``, whose URL is ``Route.BASE + path`` computed
  in ``__init__`` -> patch the class attribute ``Route.BASE`` (interaction webhooks use the same
  ``Route``).
* Gateway: ``Client.connect`` never asks ``/gateway``; ``DiscordWebSocket.from_client`` dials
  ``DiscordWebSocket.DEFAULT_GATEWAY`` -> patch that class attribute. ``AutoShardedClient`` asks
  ``GET /gateway/bot`` (served here) and uses its ``url``. Reconnects use READY's
  ``resume_gateway_url``, which points back here.

``point_discord_at(fake)`` does both and restores the originals on exit; ``FakeDiscord`` applies
it for the lifetime of ``async with`` unless ``point_discord=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import EllipsisType, TracebackType
from typing import Any, Self

import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web

from tests.fakes.discord_events import FakeEvents

Json = dict[str, Any]
Handler = Callable[..., Awaitable[Any]]

DISCORD_EPOCH_MS = 1420070400000
ALL_PERMISSIONS = "2251799813685247"
EVERYONE_PERMISSIONS = "1071698660929"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
_WAIT_TRUE = ("1", "true", "True")


def _now() -> str:
    return datetime.now(UTC).isoformat()


@contextlib.contextmanager
def point_discord_at(fake: FakeDiscord) -> Iterator[None]:
    """Redirect discord.py's REST base and default gateway to ``fake``; restore on exit."""
    route_cls, ws_cls = discord.http.Route, discord.gateway.DiscordWebSocket
    old_base, old_gateway = route_cls.BASE, ws_cls.DEFAULT_GATEWAY
    route_cls.BASE = fake.api_base
    ws_cls.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        route_cls.BASE = old_base
        ws_cls.DEFAULT_GATEWAY = old_gateway


@dataclass
class Rec:
    """One REST request as the fake received it (``json`` is ``payload_json`` for multipart)."""

    method: str
    path: str  # relative to the API base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)
    status: int = 0
    response: Any = None


@dataclass
class FakeUser:
    """A Discord user; ``payload()`` has the fields discord.py's ``User`` requires."""

    id: int
    username: str
    bot: bool = False

    def payload(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeChannel:
    """A channel: 0 text, 1 DM, 2 voice, 4 category, 11/12 public/private thread."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    owner_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    created: str = field(default_factory=_now)

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    def payload(self) -> Json:
        if self.type in (1, 3):
            return {
                "id": str(self.id),
                "type": self.type,
                "recipients": [u.payload() for u in self.recipients],
                "last_message_id": None,
                "flags": 0,
            }
        data: Json = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.is_thread:
            data |= {
                "owner_id": str(self.owner_id),
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": self.created,
                    "locked": False,
                    "create_timestamp": self.created,
                },
            }
        else:
            data |= {"position": self.position, "permission_overwrites": [], "nsfw": False}
            data |= {"topic": None, "bitrate": 64000, "user_limit": 0} if self.type == 2 else {}
        return data


@dataclass
class FakeGuild:
    """A guild with its channels, members (users) and roles."""

    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeUser] = field(default_factory=list)
    roles: list[Json] = field(default_factory=list)
    threads: list[FakeChannel] = field(default_factory=list)
    member_roles: dict[int, list[str]] = field(default_factory=dict)  # user id -> role ids


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    times: int
    status: int
    retry_after: float
    is_global: bool


async def _send(ws: web.WebSocketResponse, frame: Json | str) -> None:
    """Send one plain-text JSON frame (discord.py accepts text frames despite zlib-stream)."""
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))


@dataclass
class _Session:
    """A gateway session: survives a dropped socket so the client can RESUME it."""

    session_id: str
    shard: tuple[int, int]
    ws: web.WebSocketResponse | None
    seq: int = 0
    sent: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame) for replay
    replay_floor: int | None = None  # force re-sending frames after this seq on next RESUME
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _HTTPError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message, "code": code}


def _template_regex(template: str) -> re.Pattern[str]:
    """``/channels/{id}/messages`` -> regex with named groups (``{x}`` matches one segment)."""
    parts = re.split(r"(\{\w+\})", template)
    return re.compile(
        "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    )


def _interaction_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


class FakeDiscord:
    """A fake Discord on 127.0.0.1:<random port> with one configured guild by default.

    Defaults: bot user ``bot_name``, guild "Test Guild" with text channels ``channel_names`` and
    human members ``member_names`` (+ the bot). ``shard_count`` is what ``/gateway/bot`` reports.
    With ``echo_own_messages`` (like real Discord) messages the bot creates are also dispatched
    back as MESSAGE_CREATE/UPDATE/DELETE, so the adapter must ignore its own messages.
    """

    def __init__(
        self,
        *,
        bot_name: str = "chathost",
        guild_name: str = "Test Guild",
        channel_names: tuple[str, ...] = ("general", "chats"),
        member_names: tuple[str, ...] = ("alice", "bob"),
        shard_count: int = 1,
        heartbeat_interval_ms: int = 41250,
        echo_own_messages: bool = True,
        point_discord: bool = True,
        time_source: Callable[[], float] | None = None,
    ) -> None:
        self._last_id = 0
        # Seconds since the epoch for new snowflakes and message timestamps: tests driving a
        # simulated clock set this so discord.py's ``created_at`` follows that clock.
        self.time_source: Callable[[], float] = time_source or time.time
        self.application_id = self.snowflake()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: list[FakeGuild] = []
        self.channels: dict[int, FakeChannel] = {}
        self.shard_count = shard_count
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.echo_own_messages = echo_own_messages
        self.point_discord = point_discord
        # When set, IDENTIFY is answered by closing the socket with this code (4014: a
        # privileged intent the application has not enabled, 4004: bad token).
        self.identify_close_code: int | None = None
        # State the fake keeps, inspectable by tests.
        self.messages: dict[int, Json] = {}
        self.requests: list[Rec] = []
        self.gateway_received: list[Json] = []  # every frame clients sent on the gateway
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.interactions: dict[str, Json] = {}  # token -> INTERACTION_CREATE payload
        self._responded: set[str] = set()
        self._originals: dict[str, Json] = {}
        self._webhook_messages: dict[int, Json] = {}  # incl. ephemeral ones
        self._dm_channels: dict[int, FakeChannel] = {}
        self._failures: list[_Failure] = []
        self._lost: list[_Failure] = []  # carried out, then answered with an error
        self._sessions: dict[str, _Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._dropping: set[web.WebSocketResponse] = set()
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._patch: contextlib.ExitStack | None = None
        self.port = 0
        self._routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        self.scheduled_events = FakeEvents(self)  # guild scheduled events: discord_events.py
        self._register_routes()
        self.add_guild(guild_name, channel_names, member_names)

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._rest)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.point_discord:
            self._patch = contextlib.ExitStack()
            self._patch.enter_context(point_discord_at(self))

    async def stop(self) -> None:
        if self._patch is not None:
            self._patch.close()
            self._patch = None
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ configuration

    def snowflake(self) -> int:
        """A fresh, strictly increasing snowflake whose timestamp is now."""
        now = (int(self.time_source() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, now)
        return self._last_id

    def _iso_now(self) -> str:
        return datetime.fromtimestamp(self.time_source(), UTC).isoformat()

    def add_user(self, name: str, *, bot: bool = False) -> FakeUser:
        user = FakeUser(self.snowflake(), name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        channel_names: tuple[str, ...] = ("general",),
        member_names: tuple[str, ...] = (),
    ) -> FakeGuild:
        """Add a guild (configure before clients connect: it is sent in GUILD_CREATE)."""
        gid = self.snowflake()
        guild = FakeGuild(gid, name, owner_id=self.bot_user.id)
        guild.roles = [
            self._role(gid, "@everyone", EVERYONE_PERMISSIONS, 0),
            self._role(self.snowflake(), self.bot_user.username, ALL_PERMISSIONS, 1, managed=True),
        ]
        self.guilds.append(guild)
        guild.members.append(self.bot_user)
        for member in member_names:
            guild.members.append(
                self.user(member) if self._find_user(member) else self.add_user(member)
            )
        for pos, cname in enumerate(channel_names):
            self.add_channel(guild, cname, position=pos)
        return guild

    def add_role(self, guild: FakeGuild, name: str, members: tuple[str, ...] = ()) -> Json:
        """A plain role (no permissions) held by ``members``; configure before connecting."""
        role = self._role(self.snowflake(), name, "0", len(guild.roles))
        guild.roles.append(role)
        for member in members:
            guild.member_roles.setdefault(self.user(member).id, []).append(role["id"])
        return role

    def add_channel(
        self, guild: FakeGuild, name: str, *, type: int = 0, position: int = 0
    ) -> FakeChannel:
        channel = FakeChannel(self.snowflake(), name, type, guild_id=guild.id, position=position)
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    @property
    def guild(self) -> FakeGuild:
        """The first (default) guild."""
        return self.guilds[0]

    def _find_user(self, ref: FakeUser | int | str) -> FakeUser | None:
        if isinstance(ref, FakeUser):
            return ref
        if isinstance(ref, int):
            return self.users.get(ref)
        return next((u for u in self.users.values() if u.username == ref), None)

    def user(self, ref: FakeUser | int | str) -> FakeUser:
        """A user by object, id or username."""
        found = self._find_user(ref)
        if found is None:
            raise KeyError(f"unknown user {ref!r}")
        return found

    def channel(self, ref: FakeChannel | int | str) -> FakeChannel:
        """A channel (or thread) by object, id or name."""
        if isinstance(ref, FakeChannel):
            return ref
        for ch in self.channels.values():
            if ch.id == ref or ch.name == ref:
                return ch
        raise KeyError(f"unknown channel {ref!r}")

    def dm_channel(self, user: FakeUser | int | str) -> FakeChannel:
        """The bot's DM channel with ``user`` (created on first use, as ``create_dm`` does)."""
        who = self.user(user)
        if who.id not in self._dm_channels:
            dm = FakeChannel(self.snowflake(), who.username, 1, recipients=[who])
            self._dm_channels[who.id] = self.channels[dm.id] = dm
        return self._dm_channels[who.id]

    def _guild_of(self, guild_id: int | None) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    @staticmethod
    def _role(
        rid: int, name: str, permissions: str, position: int, *, managed: bool = False
    ) -> Json:
        return {
            "id": str(rid),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": permissions,
            "managed": managed,
            "mentionable": False,
            "flags": 0,
        }

    # ------------------------------------------------------------------ payload builders

    def member_payload(
        self, user: FakeUser, guild: FakeGuild | None = None, *, with_user: bool = True
    ) -> Json:
        """A guild member (``flags`` is required by discord.py's ``Member``)."""
        data: Json = {
            "roles": [],
            "joined_at": _now(),
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if user.id == self.bot_user.id and guild is not None:
            data["roles"] = [guild.roles[1]["id"]]  # the bot's managed admin role
        elif guild is not None:
            data["roles"] = list(guild.member_roles.get(user.id, []))
        return {"user": user.payload(), **data} if with_user else data

    def guild_payload(self, guild: FakeGuild) -> Json:
        """A GUILD_CREATE payload; ``member_count == len(members)`` so discord.py won't chunk."""
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": guild.roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "nsfw_level": 0,
            "joined_at": _now(),
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "members": [self.member_payload(u, guild) for u in guild.members],
            "channels": [c.payload() for c in guild.channels],
            "threads": [t.payload() for t in guild.threads],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def message_payload(
        self,
        channel_id: FakeChannel | int | str,
        author: FakeUser | int | str,
        content: str,
        message_id: int | None = None,
        guild_id: int | EllipsisType | None = ...,  # ... = the channel's guild
        message_reference: int | Json | None = None,
        **extra: Any,
    ) -> Json:
        """A full message object (MESSAGE_CREATE/UPDATE and REST shape); not stored or sent."""
        channel, user = self.channel(channel_id), self.user(author)
        gid = channel.guild_id if guild_id is ... else guild_id
        msg: Json = {
            "id": str(message_id or self.snowflake()),
            "channel_id": str(channel.id),
            "author": user.payload(),
            "content": content,
            "timestamp": self._iso_now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if gid is not None:
            msg["guild_id"] = str(gid)
            msg["member"] = self.member_payload(user, self._guild_of(gid), with_user=False)
        if message_reference is not None:
            ref = (
                message_reference
                if isinstance(message_reference, dict)
                else {"message_id": str(message_reference), "channel_id": str(channel.id)}
            )
            ref = {"type": 0, "fail_if_not_exists": False, **ref}
            ref = {k: str(v) if k.endswith("_id") and v else v for k, v in ref.items()}
            if gid is not None:
                ref.setdefault("guild_id", str(gid))
            msg["type"], msg["message_reference"] = 19, ref
            referenced = self.messages.get(int(ref["message_id"]))
            if referenced is not None:
                msg["referenced_message"] = {
                    k: v for k, v in referenced.items() if k != "referenced_message"
                }
        return msg | extra

    def interaction_payload(
        self,
        command_name: str,
        options: dict[str, Any] | list[Json] | None = None,
        *,
        user: FakeUser | int | str,
        channel_id: FakeChannel | int | str,
        guild_id: int | EllipsisType | None = ...,  # ... = the channel's guild
        command_type: int = 1,
    ) -> Json:
        """An INTERACTION_CREATE (application command) payload; registered for callbacks.

        discord.py requires ``token``, ``version``, ``application_id``,
        ``attachment_size_limit``; it resolves ``interaction.channel`` from the ``channel``
        object (not ``channel_id``) and looks in *guild* commands only when ``data.guild_id`` is
        set -- filled in here when the command was synced to that guild.
        """
        channel, who = self.channel(channel_id), self.user(user)
        gid = channel.guild_id if guild_id is ... else guild_id
        command = next(
            (c for c in self.guild_commands.get(gid or 0, []) if c["name"] == command_name), None
        )
        in_guild = command is not None
        command = command or next(
            (c for c in self.global_commands if c["name"] == command_name), None
        )
        if isinstance(options, dict):
            declared = {o["name"]: o.get("type") for o in (command or {}).get("options", [])}
            options = [
                {"name": k, "type": declared.get(k) or _interaction_option_type(v), "value": v}
                for k, v in options.items()
            ]
        data: Json = {
            "id": command["id"] if command else str(self.snowflake()),
            "name": command_name,
            "type": command_type,
            "options": options or [],
            "resolved": {},
        }
        if in_guild:
            data["guild_id"] = str(gid)
        token = secrets.token_urlsafe(24)
        payload: Json = {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": 2,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "locale": "en-US",
            "app_permissions": ALL_PERMISSIONS,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0" if gid else "1": str(gid or who.id)},
            "context": 0 if gid else 1,
        }
        if gid is not None:
            payload |= {
                "guild_id": str(gid),
                "guild_locale": "en-US",
                "guild": {"id": str(gid), "locale": "en-US", "features": []},
                "member": self.member_payload(who, self._guild_of(gid))
                | {"permissions": ALL_PERMISSIONS},
            }
        else:
            payload["user"] = who.payload()
        self.interactions[token] = payload
        return payload

    # ------------------------------------------------------------------ gateway: events

    def _shard_for(self, data: Json, shard_count: int) -> int:
        gid = data.get("guild_id") if isinstance(data, dict) else None
        return 0 if gid is None else (int(gid) >> 22) % shard_count

    async def dispatch(self, event: str, data: Json, *, shard_id: int | None = None) -> int:
        """Send an op-0 event to every session of the right shard; returns how many got it.

        A session whose socket is currently dropped buffers it; it is replayed on RESUME.
        """
        targets = [
            s
            for s in list(self._sessions.values())
            if s.shard[0]
            == (shard_id if shard_id is not None else self._shard_for(data, s.shard[1]))
        ]
        for session in targets:
            await self._send_dispatch(session, event, data)
        return len(targets)

    async def _send_dispatch(self, session: _Session, event: str, data: Json) -> None:
        async with session.lock:
            session.seq += 1
            # Serialised now: later edits of ``data`` must not change what a replay sends.
            frame = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
            session.sent.append((session.seq, frame))
            if session.ws is not None:
                await _send(session.ws, frame)

    async def user_says(
        self,
        channel: FakeChannel | int | str,
        author: FakeUser | int | str,
        content: str,
        **kw: Any,
    ) -> Json:
        """A user posts a message: stored and dispatched as MESSAGE_CREATE."""
        msg = self.message_payload(channel, author, content, **kw)
        self.messages[int(msg["id"])] = msg
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def user_edits(self, message_id: int | str, content: str) -> Json:
        """Edit a stored message and dispatch MESSAGE_UPDATE (full message, like Discord)."""
        msg = self.messages[int(message_id)]
        msg |= {"content": content, "edited_timestamp": self._iso_now()}
        await self.dispatch("MESSAGE_UPDATE", msg)
        return msg

    async def user_deletes(self, message_id: int | str) -> None:
        msg = self.messages.pop(int(message_id))
        await self.dispatch("MESSAGE_DELETE", self._delete_payload(msg))

    async def user_reacts(
        self,
        message_id: int | str,
        user: FakeUser | int | str,
        emoji: str = "👍",
        *,
        remove: bool = False,
    ) -> Json:
        """MESSAGE_REACTION_ADD/REMOVE for a stored message by ``user`` (unicode emoji)."""
        msg, who = self.messages[int(message_id)], self.user(user)
        data: Json = {
            "user_id": str(who.id),
            "channel_id": msg["channel_id"],
            "message_id": msg["id"],
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if "guild_id" in msg:
            data["guild_id"] = msg["guild_id"]
            if not remove:
                data["member"] = self.member_payload(who, self._guild_of(int(msg["guild_id"])))
                data["message_author_id"] = msg["author"]["id"]
        await self.dispatch("MESSAGE_REACTION_REMOVE" if remove else "MESSAGE_REACTION_ADD", data)
        return data

    async def invoke_command(
        self,
        command_name: str,
        options: dict[str, Any] | list[Json] | None = None,
        *,
        user: FakeUser | int | str,
        channel: FakeChannel | int | str,
    ) -> Json:
        """A user runs a slash command: INTERACTION_CREATE is dispatched; returns the payload."""
        payload = self.interaction_payload(command_name, options, user=user, channel_id=channel)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def invoke_message_command(
        self,
        command_name: str,
        message_id: int | str,
        *,
        user: FakeUser | int | str,
        channel: FakeChannel | int | str,
    ) -> Json:
        """A user picks ``command_name`` from a message's Apps menu (a message context menu:
        command type 3, the message in ``data.resolved``)."""
        target = self.messages[int(message_id)]
        payload = self.interaction_payload(
            command_name, None, user=user, channel_id=channel, command_type=3
        )
        payload["data"]["target_id"] = str(message_id)
        payload["data"]["resolved"] = {"messages": {str(message_id): target}}
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    @staticmethod
    def _delete_payload(msg: Json) -> Json:
        data = {"id": msg["id"], "channel_id": msg["channel_id"]}
        return data | ({"guild_id": msg["guild_id"]} if "guild_id" in msg else {})

    # ------------------------------------------------------------------ gateway: connection

    async def drop_connections(self, *, reconnect_op: bool = False, replay_last: int = 0) -> None:
        """Drop every gateway socket so clients reconnect and RESUME their session.

        ``reconnect_op`` sends op 7 RECONNECT (Discord's polite way) instead of closing with
        4000. ``replay_last`` re-sends the last N already-delivered events on RESUME, simulating
        at-least-once delivery (the adapter must de-duplicate).
        """
        for session in self._sessions.values():
            if replay_last:
                session.replay_floor = max(0, session.seq - replay_last)
        for ws in list(self._sockets):
            self._dropping.add(ws)
            if reconnect_op:
                await _send(ws, {"op": 7, "d": None, "s": None, "t": None})
            else:
                await ws.close(code=4000, message=b"fake drop")

    resume_session = drop_connections

    async def invalidate_sessions(self) -> None:
        """Forget all sessions: a RESUME then gets op 9 and the client re-IDENTIFYs.

        Note discord.py's default ``before_identify_hook`` sleeps 5 s before a non-initial
        IDENTIFY; override it in tests.
        """
        self._sessions.clear()

    def gateway_ops(self, op: int) -> list[Json]:
        """Frames with opcode ``op`` that clients sent (2 IDENTIFY, 6 RESUME, 1 heartbeat...)."""
        return [f for f in self.gateway_received if f.get("op") == op]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: _Session | None = None
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await _send(ws, {"op": 10, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.gateway_received.append(frame)
                await self._notify()
                op, data = frame.get("op"), frame.get("d")
                if op == 1:
                    await _send(ws, {"op": 11, "d": None, "s": None, "t": None})
                elif op == 2 and self.identify_close_code is not None:
                    # e.g. 4014 "Disallowed intent(s)": message content not enabled in the portal
                    await ws.close(code=self.identify_close_code, message=b"refused")
                elif op == 2:
                    session = await self._identify(ws, data)
                elif op == 6:
                    session = await self._resume(ws, data)
                elif op == 8 and session is not None:
                    await self._member_chunk(session, data)
        finally:
            self._sockets.discard(ws)
            dropped = ws in self._dropping
            self._dropping.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                # A client closing with 1000/1001 ends its session (as on Discord).
                if not dropped and ws.close_code in (1000, 1001):
                    self._sessions.pop(session.session_id, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> _Session:
        shard_id, shard_count = data.get("shard") or (0, 1)
        session = _Session(secrets.token_hex(16), (shard_id, shard_count), ws)
        self._sessions[session.session_id] = session
        mine = [g for g in self.guilds if (g.id >> 22) % shard_count == shard_id]
        ready = {
            "v": 10,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
        }
        await self._send_dispatch(session, "READY", ready)
        for guild in mine:
            await self._send_dispatch(session, "GUILD_CREATE", self.guild_payload(guild))
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> _Session | None:
        session = self._sessions.get(data.get("session_id", ""))
        if session is None:
            await _send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return None
        async with session.lock:
            after = data.get("seq") or 0
            if session.replay_floor is not None:
                after, session.replay_floor = min(after, session.replay_floor), None
            session.ws = ws
            for seq, frame in session.sent:
                if seq > after:
                    await _send(ws, frame)
        await self._send_dispatch(session, "RESUMED", {})
        return session

    async def _member_chunk(self, session: _Session, data: Json) -> None:
        guild = self._guild_of(int(data["guild_id"]))
        members = [self.member_payload(u, guild) for u in guild.members] if guild else []
        chunk = {
            "guild_id": data["guild_id"],
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # ------------------------------------------------------------------ REST: recording

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    @staticmethod
    def _matcher(method: str, path: str) -> Callable[[Rec], bool]:
        """``(method, path)``: path with ``{x}`` placeholders must match fully; else prefix."""
        if "{" in path:
            rx = _template_regex(path)
            return lambda r: r.method == method and rx.fullmatch(r.path) is not None
        return lambda r: r.method == method and r.path.startswith(path)

    async def wait_for(
        self,
        match: Callable[[Rec], bool] | tuple[str, str],
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Rec]:
        """Wait until ``count`` recorded requests match; returns them (no polling)."""
        pred = match if callable(match) else self._matcher(*match)
        found: list[Rec] = []

        def enough() -> bool:
            found[:] = [r for r in self.requests if pred(r)]
            return len(found) >= count

        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(enough)
        except TimeoutError:
            seen = [(r.method, r.path, r.status) for r in self.requests]
            raise TimeoutError(f"{len(found)}/{count} matching requests; saw {seen}") from None
        return found

    async def wait_for_op(self, op: int, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Wait until clients sent ``count`` gateway frames with opcode ``op``."""
        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(lambda: len(self.gateway_ops(op)) >= count)
        return self.gateway_ops(op)

    def messages_sent(self, channel_id: int | None = None) -> list[Rec]:
        """Successful ``POST /channels/{id}/messages`` calls (optionally for one channel)."""
        rx = _template_regex("/channels/{cid}/messages")
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.status == 200
            and (m := rx.fullmatch(r.path))
            and (channel_id is None or int(m["cid"]) == channel_id)
        ]

    def interaction_responses(self) -> list[Rec]:
        """Every successful answer to an interaction: callbacks, follow-ups, original edits."""
        prefix = f"/webhooks/{self.application_id}/"
        return [
            r
            for r in self.requests
            if r.status < 300
            and r.method != "GET"
            and (r.path.startswith("/interactions/") or r.path.startswith(prefix))
        ]

    @property
    def rate_limited(self) -> list[Rec]:
        """Requests answered 429 (by ``fail_next``)."""
        return [r for r in self.requests if r.status == 429]

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        retry_after: float = 0.3,
        status: int = 429,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (429 = rate limited).

        ``path`` is exact or uses ``{x}`` placeholders, e.g. ``/channels/{id}/messages``.
        """
        self._failures.append(
            _Failure(method, _template_regex(path), times, status, retry_after, is_global)
        )

    def lose_next_answer(
        self, method: str, path: str, *, times: int = 1, status: int = 503
    ) -> None:
        """Carry out the next ``times`` matching requests, then answer ``status`` instead of
        the result (a proxy timing out, a dropped connection: the client cannot tell that its
        message landed). ``path`` as for ``fail_next``."""
        self._lost.append(_Failure(method, _template_regex(path), times, status, 0.0, False))

    def _take_failure(
        self, method: str, path: str, failures: list[_Failure] | None = None
    ) -> _Failure | None:
        for failure in self._failures if failures is None else failures:
            if failure.times > 0 and failure.method == method and failure.pattern.fullmatch(path):
                failure.times -= 1
                return failure
        return None

    # ------------------------------------------------------------------ REST: plumbing

    @staticmethod
    def _bucket(method: str, template: str) -> str:
        return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]

    @staticmethod
    def _json_response(status: int, body: Any, headers: dict[str, str]) -> web.Response:
        if body is None:
            return web.Response(status=204, headers=headers)
        # Exactly "application/json": discord.py compares the header literally.
        headers = {**headers, "Content-Type": "application/json"}
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files: list[tuple[str, bytes]] = []
            body: Any = None
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files.append((value.filename, value.file.read()))
                elif name == "payload_json":
                    body = json.loads(value)
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        rec = Rec(request.method, path, dict(request.query), body, dict(request.headers), files)
        route = next(
            (
                (t, h, m)
                for meth, t, rx, h in self._routes
                if meth == request.method and (m := rx.fullmatch(path))
            ),
            None,
        )
        bucket = self._bucket(request.method, route[0] if route else path)
        reset_after = 1.0
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        failure = self._take_failure(request.method, path)
        if failure is not None and failure.status == 429:
            rec.status, rec.response = (
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": failure.retry_after,
                    "global": failure.is_global,
                },
            )
            headers |= {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
                "X-RateLimit-Scope": "shared" if failure.is_global else "user",
                "Retry-After": f"{failure.retry_after:g}",
                # discord.py treats a 429 without "Via" as a Cloudflare ban and raises.
                "Via": "1.1 google",
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
        elif failure is not None:
            rec.status, rec.response = failure.status, {"message": "Injected failure", "code": 0}
        elif route is None:
            rec.status, rec.response = 404, {"message": "404: Not Found", "code": 0}
        else:
            try:
                result = await route[1](rec, **route[2].groupdict())
                rec.status, rec.response = (200 if result is not None else 204), result
                lost = self._take_failure(request.method, path, self._lost)
                if lost is not None:
                    rec.status, rec.response = lost.status, {"message": "Answer lost", "code": 0}
            except _HTTPError as err:
                rec.status, rec.response = err.status, err.body
        self.requests.append(rec)
        await self._notify()
        return self._json_response(rec.status, rec.response, headers)

    def _register_routes(self) -> None:
        app, gcmd = "/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            ("GET", app + "/commands", self._get_commands),
            ("PUT", app + "/commands", self._put_commands),
            ("POST", app + "/commands", self._post_command),
            ("PATCH", app + "/commands/{command_id}", self._patch_command),
            ("DELETE", app + "/commands/{command_id}", self._delete_command),
            ("GET", gcmd + "/commands", self._get_commands),
            ("PUT", gcmd + "/commands", self._put_commands),
            ("POST", gcmd + "/commands", self._post_command),
            ("PATCH", gcmd + "/commands/{command_id}", self._patch_command),
            ("DELETE", gcmd + "/commands/{command_id}", self._delete_command),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", self._create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            (
                "PUT",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._react,
            ),
            (
                "DELETE",
                "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
                self._unreact,
            ),
            (
                "POST",
                "/channels/{channel_id}/messages/{message_id}/threads",
                self._thread_from_message,
            ),
            ("POST", "/channels/{channel_id}/threads", self._thread_without_message),
            ("POST", "/channels/{channel_id}/typing", self._no_content),
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}", self._no_content),
            ("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self._no_content),
            ("GET", "/guilds/{guild_id}", self._get_guild),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels),
            ("GET", "/guilds/{guild_id}/members", self._get_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("GET", "/guilds/{guild_id}/roles", self._get_roles),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self._followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self._get_webhook_message),
            (
                "PATCH",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._edit_webhook_message,
            ),
            (
                "DELETE",
                "/webhooks/{app_id}/{token}/messages/{message_id}",
                self._delete_webhook_message,
            ),
        ]
        table += self.scheduled_events.routes()
        self._routes = [(m, t, _template_regex(t), h) for m, t, h in table]

    # ------------------------------------------------------------------ REST: handlers

    def _channel_or_404(self, channel_id: str) -> FakeChannel:
        channel = self.channels.get(int(channel_id)) if channel_id.isdigit() else None
        if channel is None:
            raise _HTTPError(404, 10003, "Unknown Channel")
        return channel

    def _message_or_404(self, message_id: str) -> Json:
        msg = self.messages.get(int(message_id)) if message_id.isdigit() else None
        if msg is None:
            raise _HTTPError(404, 10008, "Unknown Message")
        return msg

    def _guild_or_404(self, guild_id: str) -> FakeGuild:
        guild = self._guild_of(int(guild_id)) if guild_id.isdigit() else None
        if guild is None:
            raise _HTTPError(404, 10004, "Unknown Guild")
        return guild

    async def _no_content(self, rec: Rec, **_: str) -> None:
        return None

    async def _get_me(self, rec: Rec) -> Json:
        return self.bot_user.payload() | {"verified": True, "mfa_enabled": False}

    async def _get_user(self, rec: Rec, user_id: str) -> Json:
        user = self._find_user(int(user_id)) if user_id.isdigit() else None
        if user is None:
            raise _HTTPError(404, 10013, "Unknown User")
        return user.payload()

    async def _create_dm(self, rec: Rec) -> Json:
        return self.dm_channel(int(rec.json["recipient_id"])).payload()

    async def _get_gateway(self, rec: Rec) -> Json:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, rec: Rec) -> Json:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}

    async def _get_application(self, rec: Rec) -> Json:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.bot_user.payload(),
            "verify_key": "0" * 64,
            "flags": 0,
            "bot": self.bot_user.payload(),
        }

    def _commands(self, guild_id: str | None) -> list[Json]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(int(guild_id), [])

    def _command(self, body: Json, guild_id: str | None, existing: list[Json]) -> Json:
        old = next((c for c in existing if c["name"] == body["name"]), None)
        return {
            "type": 1,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            **body,
            "id": old["id"] if old else str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
        } | ({"guild_id": guild_id} if guild_id else {})

    async def _get_commands(self, rec: Rec, app_id: str, guild_id: str | None = None) -> list[Json]:
        return self._commands(guild_id)

    async def _put_commands(self, rec: Rec, app_id: str, guild_id: str | None = None) -> list[Json]:
        store = self._commands(guild_id)
        store[:] = [self._command(body, guild_id, store) for body in rec.json or []]
        return store

    async def _post_command(self, rec: Rec, app_id: str, guild_id: str | None = None) -> Json:
        store = self._commands(guild_id)
        cmd = self._command(rec.json, guild_id, store)
        store[:] = [c for c in store if c["name"] != cmd["name"]] + [cmd]
        return cmd

    async def _patch_command(
        self, rec: Rec, app_id: str, command_id: str, guild_id: str | None = None
    ) -> Json:
        cmd = next((c for c in self._commands(guild_id) if c["id"] == command_id), None)
        if cmd is None:
            raise _HTTPError(404, 10063, "Unknown application command")
        cmd |= rec.json or {}
        return cmd

    async def _delete_command(
        self, rec: Rec, app_id: str, command_id: str, guild_id: str | None = None
    ) -> None:
        store = self._commands(guild_id)
        store[:] = [c for c in store if c["id"] != command_id]

    async def _get_channel(self, rec: Rec, channel_id: str) -> Json:
        return self._channel_or_404(channel_id).payload()

    async def _list_messages(self, rec: Rec, channel_id: str) -> list[Json]:
        self._channel_or_404(channel_id)
        limit = int(rec.query.get("limit", 50))
        mine = [m for m in self.messages.values() if m["channel_id"] == channel_id]
        return sorted(mine, key=lambda m: int(m["id"]), reverse=True)[:limit]

    def _bot_message(
        self, channel: FakeChannel, body: Json, files: list[tuple[str, bytes]], **extra: Any
    ) -> Json:
        msg = self.message_payload(
            channel,
            self.bot_user,
            body.get("content") or "",
            message_reference=body.get("message_reference"),
            **extra,
        )
        msg["embeds"] = body.get("embeds") or []
        msg["components"] = body.get("components") or []
        msg["flags"] = body.get("flags") or 0
        msg["tts"] = bool(body.get("tts"))
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        msg["attachments"] = [self._attachment(name, content) for name, content in files]
        return msg

    def _attachment(self, filename: str, content: bytes) -> Json:
        aid = self.snowflake()
        url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{filename}"
        return {
            "id": str(aid),
            "filename": filename,
            "size": len(content),
            "url": url,
            "proxy_url": url,
        }

    async def _create_message(self, rec: Rec, channel_id: str) -> Json:
        channel = self._channel_or_404(channel_id)
        body = rec.json or {}
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            # Discord returns the message already created with this nonce (a retried request).
            for earlier in self.messages.values():
                if earlier["channel_id"] == channel_id and earlier.get("nonce") == body["nonce"]:
                    return earlier
        msg = self._bot_message(channel, body, rec.files)
        self.messages[int(msg["id"])] = msg
        if self.echo_own_messages:
            await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def _get_message(self, rec: Rec, channel_id: str, message_id: str) -> Json:
        return self._message_or_404(message_id)

    def _apply_edit(self, msg: Json, body: Json, files: list[tuple[str, bytes]]) -> None:
        for key, empty in (("content", ""), ("embeds", []), ("components", []), ("flags", 0)):
            if key in body:
                msg[key] = body[key] if body[key] is not None else empty
        if files or "attachments" in body:
            kept = {str(a.get("id")) for a in body.get("attachments") or []}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in kept]
            msg["attachments"] += [self._attachment(n, c) for n, c in files]
        msg["flags"] = (msg.get("flags") or 0) & ~LOADING
        msg["edited_timestamp"] = _now()

    async def _edit_message(self, rec: Rec, channel_id: str, message_id: str) -> Json:
        msg = self._message_or_404(message_id)
        self._apply_edit(msg, rec.json or {}, rec.files)
        if self.echo_own_messages:
            await self.dispatch("MESSAGE_UPDATE", msg)
        return msg

    async def _delete_message(self, rec: Rec, channel_id: str, message_id: str) -> None:
        msg = self._message_or_404(message_id)
        del self.messages[int(message_id)]
        if self.echo_own_messages:
            await self.dispatch("MESSAGE_DELETE", self._delete_payload(msg))

    async def _react(self, rec: Rec, channel_id: str, message_id: str, emoji: str) -> None:
        self._message_or_404(message_id)
        if self.echo_own_messages:
            await self.user_reacts(message_id, self.bot_user, emoji)

    async def _unreact(self, rec: Rec, channel_id: str, message_id: str, emoji: str) -> None:
        self._message_or_404(message_id)
        if self.echo_own_messages:
            await self.user_reacts(message_id, self.bot_user, emoji, remove=True)

    async def _new_thread(self, parent: FakeChannel, thread_id: int, body: Json) -> Json:
        if parent.guild_id is None or parent.is_thread:
            raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
        thread = FakeChannel(
            thread_id,
            body.get("name", "thread"),
            body.get("type", 11),
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
        )
        self.channels[thread.id] = thread
        guild = self._guild_of(parent.guild_id)
        if guild is not None:
            guild.threads.append(thread)
        payload = thread.payload()
        payload["thread_metadata"]["auto_archive_duration"] = body.get(
            "auto_archive_duration", 1440
        )
        payload["member"] = {
            "id": str(thread.id),
            "user_id": str(self.bot_user.id),
            "join_timestamp": _now(),
            "flags": 0,
        }
        await self.dispatch("THREAD_CREATE", payload | {"newly_created": True})
        return payload

    async def _thread_from_message(self, rec: Rec, channel_id: str, message_id: str) -> Json:
        """Like Discord, the thread's id is the starter message's id."""
        parent, msg = self._channel_or_404(channel_id), self._message_or_404(message_id)
        if int(message_id) in self.channels:
            raise _HTTPError(400, 160004, "A thread has already been created for this message")
        payload = await self._new_thread(parent, int(message_id), rec.json or {})
        msg["thread"] = payload
        return payload

    async def _thread_without_message(self, rec: Rec, channel_id: str) -> Json:
        return await self._new_thread(
            self._channel_or_404(channel_id), self.snowflake(), rec.json or {}
        )

    async def _get_guild(self, rec: Rec, guild_id: str) -> Json:
        data = self.guild_payload(self._guild_or_404(guild_id))
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
        ):
            data.pop(key)
        return data

    async def _get_guild_channels(self, rec: Rec, guild_id: str) -> list[Json]:
        return [c.payload() for c in self._guild_or_404(guild_id).channels]

    async def _get_members(self, rec: Rec, guild_id: str) -> list[Json]:
        guild = self._guild_or_404(guild_id)
        after, limit = int(rec.query.get("after", 0)), int(rec.query.get("limit", 1))
        members = sorted(guild.members, key=lambda u: u.id)
        return [self.member_payload(u, guild) for u in members if u.id > after][:limit]

    async def _get_member(self, rec: Rec, guild_id: str, user_id: str) -> Json:
        guild = self._guild_or_404(guild_id)
        user = next((u for u in guild.members if str(u.id) == user_id), None)
        if user is None:
            raise _HTTPError(404, 10007, "Unknown Member")
        return self.member_payload(user, guild)

    async def _get_roles(self, rec: Rec, guild_id: str) -> list[Json]:
        return self._guild_or_404(guild_id).roles

    def _interaction_or_404(self, token: str) -> Json:
        inter = self.interactions.get(token)
        if inter is None:
            raise _HTTPError(404, 10015, "Unknown Webhook")
        return inter

    def _interaction_message(self, inter: Json, body: Json, files: list[tuple[str, bytes]]) -> Json:
        who = inter.get("member", {}).get("user") or inter["user"]
        metadata = {
            "id": inter["id"],
            "type": inter["type"],
            "user": who,
            "authorizing_integration_owners": inter["authorizing_integration_owners"],
        }
        msg = self._bot_message(
            self.channel(int(inter["channel_id"])),
            body,
            files,
            webhook_id=str(self.application_id),
            application_id=str(self.application_id),
            interaction_metadata=metadata,
        )
        msg["type"] = 20 if inter["type"] == 2 else 0
        self._webhook_messages[int(msg["id"])] = msg
        return msg

    async def _interaction_callback(self, rec: Rec, interaction_id: str, token: str) -> Json | None:
        """Answer like Discord with ``?with_response=1`` (discord.py 2.7 always asks for it)."""
        inter = self.interactions.get(token)
        if inter is None or inter["id"] != interaction_id:
            raise _HTTPError(404, 10062, "Unknown interaction")
        if token in self._responded:
            raise _HTTPError(400, 40060, "Interaction has already been acknowledged.")
        self._responded.add(token)
        kind, data = rec.json["type"], rec.json.get("data") or {}
        flags = data.get("flags") or 0
        result: Json = {
            "interaction": {
                "id": interaction_id,
                "type": inter["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if kind in (4, 5):
            body = data if kind == 4 else {"content": "", "flags": flags | LOADING}
            msg = self._interaction_message(inter, body, rec.files)
            self._originals[token] = msg
            if not flags & EPHEMERAL:
                self.messages[int(msg["id"])] = msg
                if self.echo_own_messages:
                    await self.dispatch("MESSAGE_CREATE", msg)
            result["interaction"]["response_message_id"] = msg["id"]
            result["resource"]["message"] = msg
        return result if rec.query.get("with_response") in _WAIT_TRUE else None

    async def _followup(self, rec: Rec, app_id: str, token: str) -> Json | None:
        inter = self._interaction_or_404(token)
        msg = self._interaction_message(inter, rec.json or {}, rec.files)
        if not msg["flags"] & EPHEMERAL:
            self.messages[int(msg["id"])] = msg
            if self.echo_own_messages:
                await self.dispatch("MESSAGE_CREATE", msg)
        return msg if rec.query.get("wait") in _WAIT_TRUE else None

    def _webhook_message(self, token: str, message_id: str) -> Json:
        self._interaction_or_404(token)
        msg = (
            self._originals.get(token)
            if message_id == "@original"
            else self._webhook_messages.get(int(message_id))
        )
        if msg is None:
            raise _HTTPError(404, 10008, "Unknown Message")
        return msg

    async def _get_webhook_message(
        self, rec: Rec, app_id: str, token: str, message_id: str
    ) -> Json:
        return self._webhook_message(token, message_id)

    async def _edit_webhook_message(
        self, rec: Rec, app_id: str, token: str, message_id: str
    ) -> Json:
        msg = self._webhook_message(token, message_id)
        self._apply_edit(msg, rec.json or {}, rec.files)
        if not msg["flags"] & EPHEMERAL:
            self.messages[int(msg["id"])] = msg
            if self.echo_own_messages:
                await self.dispatch("MESSAGE_UPDATE", msg)
        return msg

    async def _delete_webhook_message(
        self, rec: Rec, app_id: str, token: str, message_id: str
    ) -> None:
        msg = self._webhook_message(token, message_id)
        if self.messages.pop(int(msg["id"]), None) is not None and self.echo_own_messages:
            await self.dispatch("MESSAGE_DELETE", self._delete_payload(msg))
