"""The Discord adapter: discord.py gateway events and slash commands in, REST posts out.

``build_discord_adapter`` builds it from settings; see README "Run it in Discord". The names
below load on first use: listing the installed platforms (``chathost --help``, a rehearsal)
imports this package, and discord.py costs about a second to import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import (
        DiscordAdapter,
        DiscordStartError,
        DiscordTokenRefused,
    )
    from bot.adapters.discord.config import ConfigError, DiscordConfig
    from bot.core.clock import Clock
    from bot.core.plan import Plan
    from bot.settings import Settings

_LAZY = {
    "DiscordAdapter": "bot.adapters.discord.adapter",
    "DiscordStartError": "bot.adapters.discord.adapter",
    "DiscordTokenRefused": "bot.adapters.discord.adapter",
    "ConfigError": "bot.adapters.discord.config",
    "DiscordConfig": "bot.adapters.discord.config",
}

__all__ = [
    "ConfigError",
    "DiscordAdapter",
    "DiscordConfig",
    "DiscordStartError",
    "DiscordTokenRefused",
    "build_discord_adapter",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_discord_adapter(settings: Settings, plan: Plan, clock: Clock) -> DiscordAdapter:
    """The adapter for ``chathost run``; raises ConfigError naming a bad DISCORD_* variable."""
    from bot.adapters.discord.adapter import DiscordAdapter
    from bot.adapters.discord.config import DiscordConfig

    return DiscordAdapter(DiscordConfig.from_settings(settings), plan, clock)
