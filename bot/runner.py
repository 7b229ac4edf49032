"""Builds the adapters ``chathost run`` needs and runs the app until stopped."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.adapters.base import Adapter
from bot.app import App, check_tokens
from bot.core.clock import SystemClock
from bot.core.errors import SettingsError
from bot.core.plan import Plan
from bot.core.recurrence import past_start_notices
from bot.logging_setup import setup_logging
from bot.settings import Settings

log = logging.getLogger("chathost.run")


def check_platforms(plan: Plan, platforms: Sequence[str]) -> None:
    """``--platform console`` with a plan that has no console chat would run nothing: say
    which platforms the plan's chats use instead."""
    idle = [p for p in platforms if not any(c.platform == p for c in plan.chats)]
    if idle:
        used = ", ".join(sorted({c.platform for c in plan.chats})) or "none"
        raise SettingsError(
            f"no chat in the plan runs on {', '.join(idle)}: its chats use {used}. Run "
            "with one of those (--platform NAME), or add a chat with that platform."
        )


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
    setup_logging(settings.log_level, as_json=settings.log_json, secrets=settings.secret_values())
    platforms = list(only or sorted({c.platform for c in plan.chats}))
    check_platforms(plan, platforms)
    for notice in past_start_notices(
        (c for c in plan.chats if c.platform in platforms), SystemClock().now()
    ):
        log.warning(notice)
    check_tokens(settings, plan, platforms, slack_mode=slack_mode)
    adapters = build_adapters(settings, plan, platforms, slack_mode, port)
    app = App(settings, plan, adapters, health_port=health_port)
    await app.run_forever()
