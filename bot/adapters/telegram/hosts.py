"""Who hosts, as Telegram can tell: a group's administrators, cached, and the people seen.

``role:admins`` in a plan's hosts makes the group's administrators its hosts: they are asked
of Telegram (``getChatAdministrators``) at most every few minutes per group, so a promotion
counts within minutes without a call per message. The creator also holds ``owner``.

The Bot API cannot look a person up by @username, so the people whose messages the bot saw
are remembered (``@kate`` -> her id): a plan that lists hosts by @username can then DM them.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Bot, ChatMember
from telegram.error import TelegramError

from bot.adapters.telegram.plan_checks import ADMINS, OWNER
from bot.core.plan import ROLE_PREFIX, Plan

log = logging.getLogger("chathost.telegram")

_PEOPLE_KEPT = 10_000


def wants_admins(plan: Plan) -> bool:
    """Whether any chat, or the ``adhoc:`` section (who may start a spontaneous chat), lists
    the administrators as hosts (else they are never asked)."""
    wanted = {f"{ROLE_PREFIX}{ADMINS}", f"{ROLE_PREFIX}{OWNER}"}
    listed = [h for c in plan.chats for h in (*c.hosts, *c.cohosts)] + plan.adhoc_hosts
    return any(h.lower() in wanted for h in listed)


class Admins:
    def __init__(
        self,
        bot: Bot,
        *,
        enabled: bool,
        ttl: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.enabled = enabled
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[int, tuple[float, dict[int, frozenset[str]]]] = {}

    async def roles(self, chat_id: int, user_id: int) -> frozenset[str]:
        if not self.enabled or chat_id > 0:
            return frozenset()
        return (await self._admins(chat_id)).get(user_id, frozenset())

    async def _admins(self, chat_id: int) -> dict[int, frozenset[str]]:
        now = self._monotonic()
        cached = self._cache.get(chat_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            members = await self.bot.get_chat_administrators(chat_id)
        except TelegramError as exc:
            log.warning("cannot read the administrators of %s: %s", chat_id, exc)
            return cached[1] if cached is not None else {}
        admins = {
            m.user.id: frozenset({ADMINS, OWNER} if m.status == ChatMember.OWNER else {ADMINS})
            for m in members
        }
        self._cache[chat_id] = (now, admins)
        return admins


class People:
    """@username -> id of the people seen, and who cannot be sent a DM (they never started
    the bot: Telegram answered 403), so the next message to them goes to the group at once."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, int] = OrderedDict()
        self._groups: dict[int, int] = {}
        self.unreachable: set[int] = set()

    def saw(self, user_id: int, username: str | None, group_id: int | None = None) -> None:
        if username:
            self._ids[username.lower()] = user_id
            self._ids.move_to_end(username.lower())
            while len(self._ids) > _PEOPLE_KEPT:
                self._ids.popitem(last=False)
        if group_id is not None and group_id < 0:
            self._groups[user_id] = group_id

    def started(self, user_id: int) -> None:
        """They wrote to the bot in private: DMs reach them now."""
        self.unreachable.discard(user_id)

    def id_of(self, wanted: str) -> int | None:
        key = wanted.strip().lstrip("@")
        if key.lstrip("-").isdigit():
            return int(key)
        return self._ids.get(key.lower())

    def group_of(self, user_id: int) -> int | None:
        """The group where they last spoke: where a message they cannot get by DM goes."""
        return self._groups.get(user_id)
