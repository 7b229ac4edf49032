"""An async chat for the core tests: five days from 2026-12-01 19:30 UTC, three questions
open at once for part of it (Q1 0h-2d, Q2 1d-3d, Q3 2d-5d)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.plan import Plan, parse_plan
from tests.conftest import T0

ASYNC_YAML = """
timezone: UTC
chats:
  - id: tea
    title: Slow Tea
    tag: "#slowtea"
    mode: async
    platform: {platform}
    channel: {channel}
    threads: {threads}
    hosts: [kate]
    schedule: {{start: "2026-12-01 19:30", duration: 5d}}
    questions:
      - {{id: Q1, at: 0h, open_for: 2d, text: "What brought you here?"}}
      - {{id: Q2, at: 1d, open_for: 2d, text: "What is hard about it?"}}
      - {{id: Q3, at: 2d, text: "What will you try next?"}}
    summary: {{late_window: 1d}}
{extra}"""


def async_plan(
    platform: str = "console",
    channel: str = "teachat",
    threads: str = "per-question",
    extra: str = "",
) -> Plan:
    return parse_plan(
        ASYNC_YAML.format(platform=platform, channel=channel, threads=threads, extra=extra)
    )


def day(days: float) -> datetime:
    """``days`` after the start."""
    return T0 + timedelta(days=days)
