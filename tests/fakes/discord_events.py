"""Guild scheduled events on the fake Discord (tests/fakes/discord_server.py): the REST routes
discord.py calls, with Discord's payloads and errors.

Routes: ``GET /guilds/{id}/scheduled-events`` (``with_user_count``), ``POST`` to create,
``GET``/``PATCH``/``DELETE`` ``/guilds/{id}/scheduled-events/{event_id}``. Without the
MANAGE_EVENTS permission on the bot's role (``deny_manage_events``) every write is answered
403 with code 50013, "Missing Permissions", as Discord does. Tests set how many members are
interested (``set_interested``) and lose a create's answer (``lose_next_create``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscord, FakeGuild, Rec

Json = dict[str, Any]
Route = tuple[str, str, Callable[..., Awaitable[Any]]]

MANAGE_EVENTS = 1 << 33
ADMINISTRATOR = 1 << 3  # implies every permission, Manage Events included
# Discord's GuildScheduledEventStatus and the moves it allows.
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
MOVES = {SCHEDULED: {SCHEDULED, ACTIVE, CANCELED}, ACTIVE: {ACTIVE, COMPLETED}}
EXTERNAL = 3
EVENTS = "/guilds/{guild_id}/scheduled-events"


class FakeEvents:
    """The guilds' scheduled events, kept by the fake server."""

    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self.events: dict[int, Json] = {}
        self.interested: dict[int, int] = {}

    def routes(self) -> list[Route]:
        return [
            ("GET", EVENTS, self._list),
            ("POST", EVENTS, self._create),
            ("GET", EVENTS + "/{event_id}", self._get),
            ("PATCH", EVENTS + "/{event_id}", self._edit),
            ("DELETE", EVENTS + "/{event_id}", self._delete),
        ]

    # what tests do

    def deny_manage_events(self, guild: FakeGuild | None = None) -> None:
        """Take Manage Events (and Administrator, which implies it) from the bot's role,
        before the bot connects, so discord.py's ``guild.me.guild_permissions`` says so too."""
        guild = guild or self.server.guilds[0]
        people = [m for m in guild.members if not m.bot]
        if people and guild.owner_id == self.server.bot_user.id:
            guild.owner_id = people[0].id  # an owner holds every permission
        for role in guild.roles:
            if role.get("managed"):
                kept = int(role["permissions"]) & ~(MANAGE_EVENTS | ADMINISTRATOR)
                role["permissions"] = str(kept)

    def set_interested(self, event_id: int | str, count: int) -> None:
        self.interested[int(event_id)] = count

    def lose_next_create(self) -> None:
        """The next create is carried out, but answered 503 (a timeout after Discord took it)."""
        self.server.lose_next_answer("POST", EVENTS)

    def in_guild(self, guild_id: int | None = None) -> list[Json]:
        gid = guild_id or self.server.guilds[0].id
        return [e for e in self.events.values() if int(e["guild_id"]) == gid]

    # the routes

    def _may_manage(self, guild: FakeGuild) -> None:
        from tests.fakes.discord_server import _HTTPError

        bot_roles = [r for r in guild.roles if r.get("managed")]
        if not any(int(r["permissions"]) & (MANAGE_EVENTS | ADMINISTRATOR) for r in bot_roles):
            raise _HTTPError(403, 50013, "Missing Permissions")

    def _guild(self, guild_id: str) -> FakeGuild:
        return self.server._guild_or_404(guild_id)

    def _event(self, guild_id: str, event_id: str) -> Json:
        from tests.fakes.discord_server import _HTTPError

        event = self.events.get(int(event_id)) if event_id.isdigit() else None
        if event is None or event["guild_id"] != guild_id:
            raise _HTTPError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    def _payload(self, event: Json, with_count: bool) -> Json:
        out = dict(event)
        if with_count:
            out["user_count"] = self.interested.get(int(event["id"]), 0)
        return out

    async def _list(self, rec: Rec, guild_id: str) -> list[Json]:
        self._guild(guild_id)
        with_count = rec.query.get("with_user_count") in ("true", "True", "1")
        return [self._payload(e, with_count) for e in self.in_guild(int(guild_id))]

    async def _get(self, rec: Rec, guild_id: str, event_id: str) -> Json:
        with_count = rec.query.get("with_user_count") in ("true", "True", "1")
        return self._payload(self._event(guild_id, event_id), with_count)

    async def _create(self, rec: Rec, guild_id: str) -> Json:
        from tests.fakes.discord_server import _HTTPError

        guild = self._guild(guild_id)
        self._may_manage(guild)
        body = rec.json or {}
        location = (body.get("entity_metadata") or {}).get("location")
        if body.get("entity_type") == EXTERNAL and not (
            location and body.get("scheduled_end_time")
        ):
            raise _HTTPError(400, 50035, "Invalid Form Body")
        if not 1 <= len(body.get("name", "")) <= 100 or len(body.get("description") or "") > 1000:
            raise _HTTPError(400, 50035, "Invalid Form Body")
        event_id = self.server.snowflake()
        bot = self.server.bot_user
        self.events[event_id] = {
            "id": str(event_id),
            "guild_id": guild_id,
            "channel_id": body.get("channel_id"),
            "creator_id": str(bot.id),
            "creator": bot.payload(),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": SCHEDULED,
            "entity_type": body["entity_type"],
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "image": None,
            "recurrence_rule": None,
        }
        return self._payload(self.events[event_id], False)

    async def _edit(self, rec: Rec, guild_id: str, event_id: str) -> Json:
        from tests.fakes.discord_server import _HTTPError

        self._may_manage(self._guild(guild_id))
        event = self._event(guild_id, event_id)
        body = rec.json or {}
        status = body.get("status", event["status"])
        if status not in MOVES.get(event["status"], set()):
            raise _HTTPError(400, 180000, "Cannot update a finished event")
        for key in ("name", "description", "scheduled_start_time", "scheduled_end_time"):
            if key in body:
                event[key] = body[key]
        if "entity_metadata" in body:
            event["entity_metadata"] = body["entity_metadata"]
        event["status"] = status
        return self._payload(event, False)

    async def _delete(self, rec: Rec, guild_id: str, event_id: str) -> None:
        self._may_manage(self._guild(guild_id))
        self.events.pop(int(self._event(guild_id, event_id)["id"]))
        return None


def start_of(event: Json) -> datetime:
    return datetime.fromisoformat(event["scheduled_start_time"])


def end_of(event: Json) -> datetime:
    return datetime.fromisoformat(event["scheduled_end_time"])
