"""A weekly tea chat rehearsed for real (engine, service, SQLite store) for the recap tests.

The replies cover what a recap has to get right: reactions and host stars, an edit, a
deletion, HTML, emoji and right-to-left text, links shared twice, and a late answer.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.adapters.console.rehearsal import Rehearsal, RehearsalResult
from bot.adapters.console.replies import Reply
from bot.core.plan import Plan, parse_plan
from bot.core.store import Store

FIRST = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)  # a Tuesday
SECOND = FIRST + timedelta(days=7)

PLAN_YAML = """
timezone: Europe/London
chats:
  - id: tea
    title: Tea Chat
    tag: "#teachat"
    platform: console
    channel: teachat
    hosts: [kate]
    cohosts: [marco]
    schedule: {rrule: "FREQ=WEEKLY;BYDAY=TU;BYHOUR=19;BYMINUTE=30", duration: 1h}
    questions:
      - {id: Q1, at: 5m, text: "What brought you here?"}
      - {id: Q2, at: 20m, text: "What is hard about it?"}
      - {id: Q3, at: 40m, text: "What will you try next?"}
"""

HTML_ANSWER = "A1 <b>bold</b> claims about oolong & puer <script>alert(1)</script>"
RTL_ANSWER = "A1 شاي بالنعناع, mint tea 🍵"

FIRST_RUN: list[dict[str, Any]] = [
    {"at": "-02:00", "user": "kate", "text": "Welcome all, the kettle is on"},
    {"at": "01:00", "user": "alice", "text": "Hi from Leeds 👋"},
    {"at": "06:00", "user": "alice", "text": "A1 curiosity about tea tasting https://tea.example/guide",
     "reactions": {"+1": ["bob", "carol"], "heart": ["dan"]}},
    {"at": "06:30", "user": "bob", "text": "A1 my friend dragged me along, tasting sounded fun",
     "reactions": {"+1": ["alice"]}},
    {"at": "07:00", "user": "carol", "text": HTML_ANSWER,
     "reactions": {"+1": ["alice", "bob", "dan", "erin"]}},
    {"at": "07:30", "user": "dan", "text": RTL_ANSWER, "reactions": {"star": ["kate"]}},
    {"at": "08:00", "user": "kate", "text": "Lovely answers, keep them coming"},
    {"at": "09:00", "user": "erin", "text": "A1 oolong curiosity, honestly",
     "edit": "A1 oolong curiosity and tasting notes", "edit_at": "09:30"},
    {"at": "10:00", "user": "frank", "text": "A1 oops wrong chat", "delete_at": "10:30"},
    {"at": "21:00", "user": "alice", "text": "A2 finding time for tasting sessions",
     "reactions": {"+1": ["bob"]}},
    {"at": "21:30", "user": "bob", "text": "A2 oolong prices https://shop.example/oolong",
     "reactions": {"+1": ["alice", "carol"]}},
    {"at": "22:00", "user": "carol", "text": "A2 tasting notes are hard to write"},
    {"at": "41:00", "user": "dan", "text": "A3 brew oolong at home https://tea.example/guide"},
    {"at": "42:00", "user": "erin", "text": "A3 a tasting journal"},
    {"at": "1:05:00", "user": "bob", "text": "A3 late, sorry: tasting with friends"},
]

# The rehearsal names messages m0, m1, ... by their place in the replies list, and the store
# ignores a message id it has seen in the channel (a duplicate delivery). Commands store no
# message, so leading /chatstatus entries move the second run's ids past the first run's.
SECOND_RUN: list[dict[str, Any]] = [
    *({"at": "-20:00", "user": "gina", "text": "/chatstatus"} for _ in FIRST_RUN),
    {"at": "06:00", "user": "alice", "text": "A1 back for more oolong"},
    {"at": "06:30", "user": "gina", "text": "A1 first time here, I love green tea"},
    {"at": "07:00", "user": "bob", "text": "A1 tasting again"},
]


def plan() -> Plan:
    return parse_plan(PLAN_YAML)


def replies(entries: list[dict[str, Any]]) -> list[Reply]:
    return [Reply.model_validate(entry) for entry in entries]


async def rehearse(
    store: Store, entries: list[dict[str, Any]], start: datetime = FIRST
) -> RehearsalResult:
    """Play one run of the tea chat at full speed into ``store``."""
    rehearsal = Rehearsal(
        plan(), "tea", replies(entries), store, speed=float("inf"), out=io.StringIO(), start=start
    )
    return await rehearsal.run()
