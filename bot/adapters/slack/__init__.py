"""Slack adapter: slack-bolt in, Web API out, Block Kit for questions and recaps.

Modules, one job each: ``adapter`` (lifecycle), ``app`` (bolt listeners), ``inbound`` (events
into the core), ``commands`` (slash commands), ``translate`` (payloads -> core events, pure),
``blocks`` (messages -> Block Kit, pure), ``port`` (the core's Port), ``send_queue`` (per-channel
pacing and 429s), ``directory`` (cached names and ids).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from bot.adapters.slack.send_queue import SLACK_MESSAGE_INTERVAL, Sleep

if TYPE_CHECKING:
    from bot.adapters.slack.adapter import Mode, SlackAdapter
    from bot.core.clock import Clock
    from bot.settings import Settings

__all__ = ["SlackAdapter", "build_slack_adapter"]


def __getattr__(name: str) -> Any:
    """``SlackAdapter`` loads on first use: listing the installed platforms (``chathost
    --help``, a rehearsal) imports this package, and slack-bolt takes a while to import."""
    if name == "SlackAdapter":
        from bot.adapters.slack.adapter import SlackAdapter

        return SlackAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_slack_adapter(
    settings: Settings,
    clock: Clock,
    *,
    mode: str = "socket",
    port: int = 3000,
    host: str = "0.0.0.0",
    send_interval: float = SLACK_MESSAGE_INTERVAL,
    sleep: Sleep = asyncio.sleep,
) -> SlackAdapter:
    """The adapter ``chathost run`` starts, configured from SLACK_* settings."""
    from bot.adapters.slack.adapter import SlackAdapter
    from bot.adapters.slack.config import SlackSettings

    own = settings.platform_settings(SlackSettings)
    if mode not in ("socket", "http"):
        raise ValueError(f"unknown Slack mode {mode!r} (use socket or http)")
    if own.bot_token is None:
        raise ValueError("Slack needs SLACK_BOT_TOKEN (an xoxb- token)")
    chosen: Mode = "http" if mode == "http" else "socket"
    return SlackAdapter(
        clock,
        bot_token=own.bot_token.get_secret_value(),
        app_token=_secret(own.app_token),
        signing_secret=_secret(own.signing_secret),
        api_url=own.api_url,
        mode=chosen,
        host=host,
        port=port,
        send_interval=send_interval,
        sleep=sleep,
    )


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None
