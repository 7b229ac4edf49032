"""Builds the adapters ``chathost run`` needs and runs the app until stopped.

Every platform comes from the registry (``bot.platforms``): its token check, its settings
and the factory that builds its adapter. Nothing here names a platform.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from bot.adapters.base import Adapter
from bot.app import App
from bot.core.clock import Clock, SystemClock
from bot.core.errors import SettingsError
from bot.core.plan import Plan
from bot.core.recurrence import past_start_notices
from bot.logging_setup import setup_logging
from bot.platforms import BuildContext, PlatformRegistry
from bot.settings import Settings

log = logging.getLogger("chathost.run")


def check_platforms(plan: Plan, platforms: Sequence[str]) -> None:
    """``--platform console`` with a plan that has no console chat would run nothing, unless
    the plan has an ``adhoc:`` section (spontaneous chats may be started there): else say
    which platforms the plan's chats use instead."""
    if not platforms:
        raise SettingsError(
            "the plan has no chats: name the platforms to hold spontaneous chats on "
            "(--platform NAME)"
        )
    idle = [p for p in platforms if not any(c.platform == p for c in plan.chats)]
    if idle and not plan.writes_adhoc:
        used = ", ".join(sorted({c.platform for c in plan.chats})) or "none"
        raise SettingsError(
            f"no chat in the plan runs on {', '.join(idle)}: its chats use {used}. Run "
            "with one of those (--platform NAME), add a chat with that platform, or add an "
            "adhoc: section to start spontaneous chats there (README)."
        )


def build_adapters(
    registry: PlatformRegistry,
    settings: Settings,
    plan: Plan,
    platforms: Sequence[str],
    options: argparse.Namespace,
    clock: Clock,
) -> dict[str, Adapter]:
    """Each platform's adapter from its plugin's factory; a bad setting stops here (exit 2)."""
    adapters: dict[str, Adapter] = {}
    for name in platforms:
        plugin = registry.get(name)
        context = BuildContext(settings, plugin.settings_of(settings), plan, clock, options)
        adapters[name] = plugin.build(context)
    return adapters


async def run_app(
    settings: Settings,
    plan: Plan,
    only: Sequence[str] | None,
    options: argparse.Namespace,
    *,
    registry: PlatformRegistry,
    health_port: int | None = None,
) -> None:
    secrets = settings.secret_values(registry)
    setup_logging(settings.log_level, as_json=settings.log_json, secrets=secrets)
    platforms = list(only or sorted({c.platform for c in plan.chats}))
    check_platforms(plan, platforms)
    clock = SystemClock()
    running = [c for c in plan.chats if c.platform in platforms]
    for notice in past_start_notices(running, clock.now()):
        log.warning(notice)
    registry.check_tokens(settings, plan, platforms, options)
    adapters = build_adapters(registry, settings, plan, platforms, options, clock)
    app = App(settings, plan, adapters, health_port=health_port)
    await app.run_forever()
