"""Discord as a platform plugin: DISCORD_* settings, its token, ``chathost discord-invite``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.adapters.discord.config import DiscordConfig, DiscordSettings
from bot.core.plan_rules import PlatformRules
from bot.platforms import BuildContext, PlatformPlugin, PluginCommand

if TYPE_CHECKING:
    from bot.adapters.base import Adapter


def tokens(options: argparse.Namespace) -> tuple[str, ...]:
    return ("DISCORD_TOKEN",)


def build(context: BuildContext) -> Adapter:
    """Raises ConfigError naming a bad DISCORD_* variable (exit 2) before connecting."""
    from bot.adapters.discord.adapter import DiscordAdapter

    own = context.platform_settings
    assert isinstance(own, DiscordSettings)
    return DiscordAdapter(DiscordConfig.from_discord_settings(own), context.plan, context.clock)


def _invite_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client-id", help="application id (default: $DISCORD_CLIENT_ID)")
    parser.add_argument(
        "--plan", help="the plan (chats.yaml): a chat with events: true adds Manage Events"
    )


def _invite(args: argparse.Namespace) -> int:
    from bot.adapters.discord.invite import invite_command
    from bot.settings import load_settings

    events = False
    if args.plan:
        from bot.core.plan import load_plan

        plan = load_plan(args.plan)
        events = any(c.events for c in plan.chats if c.platform == "discord")
    return invite_command(load_settings(), args.client_id, events=events)


PLUGIN = PlatformPlugin(
    name="discord",
    settings_model=DiscordSettings,
    build=build,
    secrets=("token",),
    tokens=tokens,
    plan_rules=PlatformRules(scheduled_events=True),  # events: true (guild scheduled events)
    commands=(
        PluginCommand(
            "discord-invite",
            "print the URL that adds the bot to a server",
            _invite,
            _invite_arguments,
        ),
    ),
    description="Discord, through its gateway",
)
