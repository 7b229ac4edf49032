"""What ``chathost validate`` checks of a Telegram chat beyond the plan's own rules.

Why: Telegram finds a group only by its numeric id (negative: ``-100...``) or a public group's
``@username``, and the only roles it tells a bot about are a group's administrators and its
creator. A bare name (``channel: teachat``), an id whose minus sign was dropped, or
``role:Moderators`` would pass the plan and then fail, or match nobody, once the chat runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot.core.plan import ROLE_PREFIX
from bot.core.plan_rules import ChatFields, PlatformRules, Problem

# The roles Telegram tells a bot of (hosts.py gives them to people): ``role:admins`` in a
# plan's hosts is the group's administrators, ``role:owner`` its creator. This module needs no
# Telegram library: ``chathost validate`` loads it with the plugin.
ADMINS = "admins"
OWNER = "owner"
# A public username: 5 to 32 letters, digits and underscores, starting with a letter.
USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
GROUP_ID = re.compile(r"^-\d+$")

CHANNEL_HELP = (
    'write the group\'s id, e.g. channel: "-1001234567890" (README: "Find the group\'s id"), '
    'or a public group\'s "@username"'
)


def channel_problem(channel: str) -> str | None:
    """What is wrong with a Telegram chat's ``channel:``, or None."""
    name = channel.strip()
    if GROUP_ID.match(name) or USERNAME.match(name):
        return None
    shown = json.dumps(channel)
    if name.isdigit():
        return f"{shown}: a Telegram group's id is negative (-100...); {CHANNEL_HELP}"
    return f"{shown} is not a Telegram group id or @username; {CHANNEL_HELP}"


def chat_problems(chat: ChatFields) -> Sequence[Problem]:
    found: list[Problem] = []
    if (problem := channel_problem(chat.channel)) is not None:
        found.append((("channel",), problem))
    known = (f"{ROLE_PREFIX}{ADMINS}", f"{ROLE_PREFIX}{OWNER}")
    for field in ("hosts", "cohosts"):
        for i, host in enumerate(getattr(chat, field)):
            if host.lower().startswith(ROLE_PREFIX) and host.lower() not in known:
                found.append(
                    (
                        (field, i),
                        f"{json.dumps(host)}: Telegram tells a bot only of a group's "
                        f"administrators and creator: use {' or '.join(known)}, or list people "
                        "by @username or numeric id",
                    )
                )
    return found


PLAN_RULES = PlatformRules(chat_problems=chat_problems)
