"""The console as a platform plugin: type ``name: text`` lines; needs no token."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.platforms import BuildContext, PlatformPlugin

if TYPE_CHECKING:
    from bot.adapters.base import Adapter


class ConsoleSettings(BaseSettings):
    """The console has nothing to configure; its prefix is reserved for later settings."""

    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")


# The terminal's channel when neither --channel nor a console chat of the plan names one.
DEFAULT_CHANNEL = "console"


def add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--channel",
        dest="console_channel",
        metavar="NAME",
        help="console: the channel the terminal is on, e.g. to try /startchat TITLE there "
        f"(default: the plan's console chat's channel, else {DEFAULT_CHANNEL})",
    )


def terminal_channel(context: BuildContext) -> str:
    """One terminal, so one channel: the one asked for, else the first console chat's (the
    engine posts a planned chat only there), else ``console``, where a spontaneous chat can
    be tried with no plan entry at all."""
    asked = getattr(context.options, "console_channel", None)
    planned = (c.channel for c in context.plan.chats if c.platform == PLUGIN.name)
    return (asked or next(planned, DEFAULT_CHANNEL)).lstrip("#")


def build(context: BuildContext) -> Adapter:
    from bot.adapters.console.live import ConsoleAdapter

    return ConsoleAdapter(context.clock, terminal_channel(context))


PLUGIN = PlatformPlugin(
    name="console",
    settings_model=ConsoleSettings,
    build=build,
    add_run_options=add_run_options,
    description="the terminal: type 'name: text' lines",
)
