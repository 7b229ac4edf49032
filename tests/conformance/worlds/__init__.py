"""Every platform's test world; the conformance scenarios run once in each.

A new platform adds one file here (a ``World`` subclass, see tests/conformance/world.py) and
one line below. It is done when it passes the suite.
"""

from __future__ import annotations

from tests.conformance.world import World
from tests.conformance.worlds.console_world import ConsoleConformance
from tests.conformance.worlds.discord_world import DiscordConformance
from tests.conformance.worlds.slack_world import SlackConformance
from tests.conformance.worlds.telegram_world import TelegramConformance

WORLDS: dict[str, type[World]] = {
    "console": ConsoleConformance,
    "slack": SlackConformance,
    "discord": DiscordConformance,
    "telegram": TelegramConformance,
}
