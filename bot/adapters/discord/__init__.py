"""The Discord adapter: discord.py gateway events and slash commands in, REST posts out.

``build_discord_adapter`` is what ``chathost run`` calls; see README "Run it in Discord".
"""

from __future__ import annotations

from bot.adapters.discord.adapter import DiscordAdapter, DiscordStartError, DiscordTokenRefused
from bot.adapters.discord.config import ConfigError, DiscordConfig
from bot.core.clock import Clock
from bot.core.plan import Plan
from bot.settings import Settings

__all__ = [
    "ConfigError",
    "DiscordAdapter",
    "DiscordConfig",
    "DiscordStartError",
    "DiscordTokenRefused",
    "build_discord_adapter",
]


def build_discord_adapter(settings: Settings, plan: Plan, clock: Clock) -> DiscordAdapter:
    """The adapter for ``chathost run``; raises ConfigError naming a bad DISCORD_* variable."""
    return DiscordAdapter(DiscordConfig.from_settings(settings), plan, clock)
