"""Builders for plans and events that tests share. Values are realistic, not placeholders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.events import ChannelRef, IncomingMessage, User
from bot.core.plan import Chat, Plan, parse_plan

CHAT_YAML = """
timezone: UTC
chats:
  - id: tea
    title: Tea Chat
    tag: "#teachat"
    platform: {platform}
    channel: {channel}
    threads: {threads}
    hosts: [kate]
    cohosts: [marco]
    schedule: {{start: "2026-12-01 19:30", duration: 1h}}
    intro: Welcome to Tea Chat!
    outro: Thanks all!
    questions:
      - {{id: Q1, at: 5m, text: "What brought you here?"}}
      - {{id: Q2, at: 20m, text: "What is hard about it?"}}
      - {{id: Q3, at: 40m, text: "What will you try next?"}}
    nudges: {{after: 10m, max_per_person: 1, via: dm}}
"""


def make_plan(
    platform: str = "console", channel: str = "teachat", threads: str = "none", **overrides: Any
) -> Plan:
    """A one-chat plan starting 2026-12-01 19:30 UTC, questions at 5, 20 and 40 minutes."""
    plan = parse_plan(CHAT_YAML.format(platform=platform, channel=channel, threads=threads))
    if overrides:
        chat = plan.chats[0].model_copy(update=overrides)
        plan = Plan(timezone=plan.timezone, chats=[chat])
    return plan


def chat_of(plan: Plan) -> Chat:
    return plan.chats[0]


def message(
    text: str,
    at: datetime,
    *,
    user: str = "alice",
    message_id: str | None = None,
    channel: str = "teachat",
    platform: str = "console",
    thread_id: str | None = None,
    reply_to: str | None = None,
) -> IncomingMessage:
    return IncomingMessage(
        platform=platform,
        channel=ChannelRef(channel, channel),
        message_id=message_id or f"{user}-{at.timestamp():.0f}",
        user=User(user, user),
        text=text,
        at=at,
        thread_id=thread_id,
        reply_to=reply_to,
    )
