"""Cached look-ups of names and ids: Slack events carry ids, plans and hosts use names.

Plans may name a channel (``chat2lrn``) or give its id; hosts are listed by user name or id.
Each look-up costs a Web API call, so answers are kept for the adapter's lifetime (a
``channel_rename`` event refreshes a channel's name, a ``user_change`` event a person's).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.reach import network_reason
from bot.adapters.slack.send_queue import Sleep, call_with_rate_limit
from bot.core.events import ChannelRef, User

log = logging.getLogger("chathost.slack.directory")

CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
PAGE = 200  # conversations.list / users.list page size (Slack recommends at most 200)


class Directory:
    def __init__(self, client: AsyncWebClient, *, sleep: Sleep = asyncio.sleep) -> None:
        self.client = client
        self._sleep = sleep
        self._channel_names: dict[str, str] = {}  # id -> name
        self._channel_ids: dict[str, str] = {}  # lower-case name -> id
        self._users: dict[str, User] = {}
        self._user_ids: dict[str, str] = {}  # lower-case handle or display name -> id
        self._users_listed = False
        self._dms: dict[str, str] = {}  # user id -> DM channel id
        self._zones: dict[str, str] = {}  # user id -> IANA zone (users.info ``tz``)

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """A read through slack_sdk's typed method (``conversations_info`` for
        ``conversations.info``), waiting out 429s."""
        function = getattr(self.client, method.replace(".", "_"))
        args = {k: v for k, v in kwargs.items() if v is not None}

        async def call() -> Any:
            return await function(**args)

        return await call_with_rate_limit(call, sleep=self._sleep, what=method)

    # channels

    def remember_channel(self, channel_id: str, name: str, *, replace: bool = True) -> None:
        """Note a channel's name (``replace=False``: only if none is known yet)."""
        if not name or (not replace and channel_id in self._channel_names):
            return
        old = self._channel_names.get(channel_id)
        if old and self._channel_ids.get(old.lower()) == channel_id:
            del self._channel_ids[old.lower()]
        self._channel_names[channel_id] = name
        self._channel_ids[name.lower()] = channel_id

    async def channel(self, channel_id: str) -> ChannelRef:
        """The channel with its name (conversations.info, cached); the bare id if that fails."""
        if channel_id not in self._channel_names:
            try:
                info = await self._call("conversations.info", channel=channel_id)
                self.remember_channel(channel_id, str(info["channel"].get("name") or ""))
            except (SlackApiError, ClientError, TimeoutError) as exc:
                log.warning("cannot name channel %s: %s", channel_id, _error(exc))
                return ChannelRef(channel_id)
        return ChannelRef(channel_id, self._channel_names.get(channel_id, ""))

    async def channel_id(self, channel: str) -> str | None:
        """The id of a channel given by id, ``name`` or ``#name``; None if there is none."""
        wanted = channel.strip().lstrip("#")
        if CHANNEL_ID.fullmatch(wanted):
            return wanted
        if wanted.lower() not in self._channel_ids:
            await self._list_channels()
        return self._channel_ids.get(wanted.lower())

    async def _list_channels(self) -> None:
        cursor = ""
        while True:
            page = await self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=PAGE,
                cursor=cursor or None,
            )
            for item in page.get("channels") or []:
                self.remember_channel(str(item.get("id")), str(item.get("name") or ""))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return

    # users

    async def user(self, user_id: str, handle: str = "") -> User:
        """The person behind an id: handle as ``name``, the name Slack shows as ``display``."""
        if user_id not in self._users:
            try:
                info = await self._call("users.info", user=user_id)
                self.remember_user(info["user"])
            except (SlackApiError, ClientError, TimeoutError) as exc:
                log.warning("cannot look up user %s: %s", user_id, _error(exc))
                return User(user_id, handle or user_id)
        return self._users[user_id]

    async def user_zone(self, user_id: str) -> str | None:
        """A person's time zone as Slack keeps it; None if it cannot be read."""
        await self.user(user_id)
        return self._zones.get(user_id)

    def remember_user(self, data: Mapping[str, Any]) -> None:
        """Cache a person from a users.info / users.list object, or a ``user_change`` event's
        (so a new display name shows from the next message on, not after a restart)."""
        user_id = str(data.get("id") or "")
        if not user_id:
            return
        profile = data.get("profile")
        if not isinstance(profile, Mapping):
            profile = {}  # a profile is optional; one that is not an object says nothing
        handle = str(data.get("name") or user_id)
        display = str(profile.get("display_name") or profile.get("real_name") or "")
        user = User(user_id, handle, is_bot=bool(data.get("is_bot")), display=display)
        self._users[user_id] = user
        if isinstance(data.get("tz"), str) and data["tz"]:
            self._zones[user_id] = str(data["tz"])
        for alias in (handle, display, profile.get("display_name"), data.get("real_name")):
            if alias:
                self._user_ids.setdefault(str(alias).lower().lstrip("@"), user_id)

    async def user_id(self, who: str) -> str | None:
        """An id for a user named in the plan (``kate``, ``@kate``) or given by id."""
        wanted = who.strip().lstrip("@")
        if USER_ID.fullmatch(wanted):
            return wanted
        if wanted.lower() not in self._user_ids and not self._users_listed:
            await self._list_users()
        return self._user_ids.get(wanted.lower())

    async def _list_users(self) -> None:
        cursor = ""
        while True:
            page = await self._call("users.list", limit=PAGE, cursor=cursor or None)
            for member in page.get("members") or []:
                if not member.get("deleted"):
                    self.remember_user(member)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
        self._users_listed = True

    async def dm_channel(self, user_id: str) -> str:
        """The DM channel with a user (conversations.open, cached). Raises SlackApiError."""
        if user_id not in self._dms:
            opened = await self._call("conversations.open", users=user_id)
            self._dms[user_id] = str(opened["channel"]["id"])
        return self._dms[user_id]


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        try:
            return str(exc.response.get("error") or exc)
        except Exception:  # a response without a JSON body
            return str(exc)
    return network_reason(exc)
