"""Slack as a platform plugin: SLACK_* settings, its tokens per mode, ``--slack-mode``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.adapters.slack.config import SlackSettings
from bot.platforms import BuildContext, PlatformPlugin

if TYPE_CHECKING:
    from bot.adapters.base import Adapter

MODES = ("socket", "http")


def tokens(options: argparse.Namespace) -> tuple[str, ...]:
    """Socket Mode dials out with the app token; HTTP mode verifies requests instead."""
    if getattr(options, "slack_mode", "socket") == "http":
        return ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    return ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")


def add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--slack-mode",
        choices=MODES,
        default="socket",
        help="Slack: Socket Mode (no public URL) or HTTP mode on --port",
    )


def build(context: BuildContext) -> Adapter:
    from bot.adapters.slack.adapter import SlackAdapter

    own = context.platform_settings
    assert isinstance(own, SlackSettings)
    mode = "http" if getattr(context.options, "slack_mode", "socket") == "http" else "socket"
    return SlackAdapter(
        context.clock,
        bot_token=_secret(own.bot_token) or "",
        app_token=_secret(own.app_token),
        signing_secret=_secret(own.signing_secret),
        api_url=own.api_url,
        mode=mode,
        port=getattr(context.options, "port", 3000),
    )


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


PLUGIN = PlatformPlugin(
    name="slack",
    settings_model=SlackSettings,
    build=build,
    secrets=("bot_token", "app_token", "signing_secret"),
    tokens=tokens,
    add_run_options=add_run_options,
    description="Slack, in Socket Mode or HTTP mode",
)
