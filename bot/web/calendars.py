"""The archive's calendar feeds: the plan's chats as ``.ics`` a calendar program subscribes to.

Why the plan file and not the stored chats: a feed is about runs to come, and the store keeps
every chat ever run, those since removed from the plan included. The file is read again when
it changes, so a deploy with a new plan shows in the next refresh of people's calendars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.errors import UserError
from bot.core.plan import Chat, Plan, load_plan
from bot.export.calendar import plan_calendar
from bot.web.auth import feed_token


class FeedUnavailable(Exception):
    """The plan cannot be read: the feed answers 503 with this reason."""


@dataclass
class PlanFeed:
    path: str | None
    _cached: tuple[float, Plan] | None = field(default=None, repr=False)

    def chats(self, chat_id: str | None = None) -> list[Chat] | None:
        """The plan's chats (or the one asked for; None when the plan has no such chat)."""
        plan = self._plan()
        if chat_id is None:
            return plan.chats
        found = [chat for chat in plan.chats if chat.id == chat_id]
        return found or None

    def calendar(self, chats: list[Chat], *, public_url: str | None, now: datetime) -> bytes:
        return plan_calendar(chats, public_url=public_url, now=now)

    def _plan(self) -> Plan:
        if not self.path:
            raise FeedUnavailable("no plan file is set (CHATS_FILE)")
        try:
            changed = Path(self.path).stat().st_mtime
        except OSError as exc:
            raise FeedUnavailable(f"the plan {self.path} cannot be read ({exc.strerror})") from None
        if self._cached is None or self._cached[0] != changed:
            try:
                self._cached = (changed, load_plan(self.path))
            except UserError as exc:
                first = str(exc).splitlines()[0]
                raise FeedUnavailable(f"the plan {self.path} has errors: {first}") from None
        return self._cached[1]


def feed_query(token: str | None) -> str:
    """What a page appends to a feed's link so that a subscription gets through the gate."""
    return f"?token={feed_token(token)}" if token else ""


def webcal(public_url: str | None, path: str, token: str | None) -> str | None:
    """The subscription address (``webcal://``), which needs the archive's public address."""
    if not public_url:
        return None
    rest = public_url.split("://", 1)[-1].rstrip("/")
    return f"webcal://{rest}{path}{feed_query(token)}"
