"""Builds the adapters ``chathost run`` needs and runs the app until stopped."""

from __future__ import annotations

from collections.abc import Sequence

from bot.adapters.base import Adapter
from bot.app import App, check_tokens
from bot.core.clock import SystemClock
from bot.core.plan import Plan
from bot.logging_setup import database_password, setup_logging
from bot.settings import Settings


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.discord_token,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    password = database_password(settings.database_url)
    return [*found, password] if password else found


def build_adapters(
    settings: Settings, plan: Plan, platforms: Sequence[str], slack_mode: str, port: int
) -> dict[str, Adapter]:
    clock = SystemClock()
    adapters: dict[str, Adapter] = {}
    for platform in platforms:
        if platform == "console":
            from bot.adapters.console.live import ConsoleAdapter

            channel = next(c.channel for c in plan.chats if c.platform == "console")
            adapters["console"] = ConsoleAdapter(clock, channel)
        elif platform == "slack":
            from bot.adapters.slack import build_slack_adapter

            adapters["slack"] = build_slack_adapter(settings, clock, mode=slack_mode, port=port)
        elif platform == "discord":
            from bot.adapters.discord import build_discord_adapter

            adapters["discord"] = build_discord_adapter(settings, plan, clock)
    return adapters


async def run_app(
    settings: Settings,
    plan: Plan,
    only: Sequence[str] | None,
    slack_mode: str = "socket",
    port: int = 3000,
    *,
    health_port: int | None = None,
) -> None:
    setup_logging(settings.log_level, as_json=settings.log_json, secrets=_secrets(settings))
    platforms = list(only or sorted({c.platform for c in plan.chats}))
    check_tokens(settings, plan, platforms, slack_mode=slack_mode)
    adapters = build_adapters(settings, plan, platforms, slack_mode, port)
    app = App(settings, plan, adapters, health_port=health_port)
    await app.run_forever()
