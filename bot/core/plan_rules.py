"""What a platform adds to the checks of the plan's chats on it.

Why: some mistakes are only mistakes on one platform (a Telegram ``channel:`` that is a bare
name, ``events: true`` where the platform has no scheduled events), and ``chathost validate``
must name them with file:line:col like any other, instead of the chat failing silently once it
runs. The core names no platform, so each platform plugin declares its :class:`PlatformRules`
and the registry hands them to the plan's loader in the validation context, next to the
platform names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core import wording

# A problem with one field of a chat: the field's path under the chat, and what is wrong.
Problem = tuple[tuple[str | int, ...], str]


class ChatFields(Protocol):
    """The parts of a plan's chat (``bot.core.plan.Chat``) the rules read."""

    platform: str
    channel: str
    hosts: list[str]
    cohosts: list[str]
    events: bool


def _no_problems(chat: Any) -> Sequence[Problem]:
    return ()


@dataclass(frozen=True)
class PlatformRules:
    """``scheduled_events``: whether ``events: true`` means something here (Discord's guild
    events); ``chat_problems``: the platform's own checks of a chat (its channel and host
    forms)."""

    scheduled_events: bool = False
    chat_problems: Callable[[Any], Sequence[Problem]] = _no_problems

    def problems(self, chat: ChatFields) -> list[Problem]:
        found = list(self.chat_problems(chat))
        if chat.events and not self.scheduled_events:
            found.append((("events",), wording.NO_SCHEDULED_EVENTS.format(platform=chat.platform)))
        return found


def rules_of(known: Collection[str] | None, platform: str) -> PlatformRules | None:
    """The rules of ``platform`` when the plan is checked against the registry's rules (a
    mapping of names to rules); None when only names are known (nothing more to check)."""
    if isinstance(known, Mapping):
        rules = known.get(platform)
        return rules if isinstance(rules, PlatformRules) else None
    return None
