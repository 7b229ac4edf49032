"""The console as a platform plugin: type ``name: text`` lines; needs no token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.platforms import BuildContext, PlatformPlugin

if TYPE_CHECKING:
    from bot.adapters.base import Adapter


class ConsoleSettings(BaseSettings):
    """The console has nothing to configure; its prefix is reserved for later settings."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")


def build(context: BuildContext) -> Adapter:
    """One terminal, so one channel: the first console chat's (the engine only posts there)."""
    from bot.adapters.console.live import ConsoleAdapter

    channel = next(c.channel for c in context.plan.chats if c.platform == PLUGIN.name)
    return ConsoleAdapter(context.clock, channel)


PLUGIN = PlatformPlugin(
    name="console",
    settings_model=ConsoleSettings,
    build=build,
    description="the terminal: type 'name: text' lines",
)
