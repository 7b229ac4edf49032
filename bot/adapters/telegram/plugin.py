"""Telegram as a platform plugin: TELEGRAM_* settings, its token per mode, ``--telegram-mode``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.adapters.telegram.config import TelegramSettings
from bot.adapters.telegram.plan_checks import PLAN_RULES
from bot.platforms import BuildContext, PlatformPlugin

if TYPE_CHECKING:
    from bot.adapters.base import Adapter

MODES = ("polling", "webhook")


def tokens(options: argparse.Namespace) -> tuple[str, ...]:
    """Polling dials out with the token alone; a webhook also needs the secret it checks."""
    if getattr(options, "telegram_mode", "polling") == "webhook":
        return ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")
    return ("TELEGRAM_BOT_TOKEN",)


def add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--telegram-mode",
        choices=MODES,
        default="polling",
        help="Telegram: long polling (no public URL) or a webhook on --port",
    )


def build(context: BuildContext) -> Adapter:
    from bot.adapters.telegram.adapter import TelegramAdapter, TelegramOptions

    own = context.platform_settings
    assert isinstance(own, TelegramSettings)
    mode = getattr(context.options, "telegram_mode", "polling")
    options = TelegramOptions(
        mode="webhook" if mode == "webhook" else "polling",
        port=int(getattr(context.options, "port", 0) or 8443),
    )
    return TelegramAdapter(own, context.plan, context.clock, options)


PLUGIN = PlatformPlugin(
    name="telegram",
    settings_model=TelegramSettings,
    build=build,
    secrets=("bot_token", "webhook_secret"),
    tokens=tokens,
    add_run_options=add_run_options,
    plan_rules=PLAN_RULES,
    description="Telegram groups, by long polling or a webhook",
)
