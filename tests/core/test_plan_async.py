"""Async chats in the plan: durations in days, questions' windows, reminders and the digest;
live-only settings refused in async mode and the other way round, each with its position."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from bot.core.durations import format_duration
from bot.core.plan import PlanError, parse_plan, plan_json_schema

ASYNC = """\
timezone: Europe/London
chats:
  - id: slow
    title: "Slow chat: learning at work"
    mode: async
    channel: learning
    threads: per-question
    hosts: [kate]
    schedule:
      rrule: FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9
      duration: 5d
    questions:
      - {id: Q1, at: 0h, open_for: 2d, text: one}
      - {id: Q2, at: 1d, open_for: 2d, text: two}
      - {id: Q3, at: 2d, text: three}
    reminders: {before_close: 12h, max_per_person: 2, quiet_hours: "21:00-08:00", via: dm}
    digest: {at: "17:00"}
    summary: {highlights: 3, late_window: 1d}
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "chats.yaml")
    return [str(i) for i in caught.value.issues]


def test_an_async_chat_loads_with_days_windows_reminders_and_digest() -> None:
    chat = parse_plan(ASYNC).chats[0]
    assert chat.is_async and chat.schedule.duration == timedelta(days=5)
    q1, q2, q3 = chat.questions
    assert [chat.open_for(q) for q in (q1, q2, q3)] == [timedelta(days=d) for d in (2, 2, 3)]
    assert chat.last_close == timedelta(days=5)  # Q3 stays open until the end
    assert chat.reminders is not None and chat.reminders.quiet == (time(21), time(8))
    assert chat.digest is not None and chat.digest.time == time(17)
    assert chat.summary.late_window == timedelta(days=1)


def test_durations_in_days_are_written_back_in_days() -> None:
    assert format_duration(timedelta(days=5)) == "5d"
    assert format_duration(timedelta(days=1, hours=2, minutes=30)) == "1d2h30m"
    chat = parse_plan(ASYNC).chats[0]
    assert parse_plan(ASYNC).chats[0].model_dump_json() == chat.model_dump_json()


def test_a_question_that_closes_after_the_end_is_refused_with_its_position() -> None:
    text = ASYNC.replace("{id: Q2, at: 1d, open_for: 2d", "{id: Q2, at: 1d, open_for: 5d")
    assert issues_of(text) == [
        "chats.yaml:14:36 chats[0].questions[1].open_for: it closes at 6d, after the chat's "
        "end (duration 5d)"
    ]


def test_live_only_settings_are_refused_in_async_mode() -> None:
    text = ASYNC.replace("    digest:", "    nudges: {after: 10m}\n    digest:")
    assert issues_of(text) == [
        "chats.yaml:17:13 chats[0].nudges: nudges are for live chats; an async chat has "
        "reminders (see README)"
    ]


def test_async_only_settings_are_refused_in_a_live_chat() -> None:
    text = ASYNC.replace("    mode: async\n", "").replace("duration: 5d", "duration: 5h")
    text = text.replace("at: 1d", "at: 1h").replace("at: 2d", "at: 2h")
    text = text.replace("open_for: 2d", "open_for: 1h")
    assert issues_of(text) == [
        "chats.yaml:12:36 chats[0].questions[0].open_for: open_for is for async chats "
        "(add mode: async)",
        "chats.yaml:13:36 chats[0].questions[1].open_for: open_for is for async chats "
        "(add mode: async)",
        "chats.yaml:15:16 chats[0].reminders: reminders is for async chats (add mode: async)",
        "chats.yaml:16:13 chats[0].digest: digest is for async chats (add mode: async)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'quiet_hours: "21:00-08:00"',
            'quiet_hours: "9pm-8am"',
            'chats.yaml:16:68 chats[0].reminders.quiet_hours: "9pm-8am": write HH:MM-HH:MM, '
            "e.g. 21:00-08:00",
        ),
        (
            'at: "17:00"',
            'at: "25:00"',
            'chats.yaml:17:18 chats[0].digest.at: "25:00": write a local time HH:MM, e.g. 17:00',
        ),
    ],
)
def test_clock_times_are_checked(old: str, new: str, expected: str) -> None:
    assert issues_of(ASYNC.replace(old, new)) == [expected]


def test_the_schema_knows_the_async_keys() -> None:
    defs = plan_json_schema()["$defs"]
    assert defs["Chat"]["properties"]["mode"]["enum"] == ["live", "async"]
    assert {"reminders", "digest"} <= set(defs["Chat"]["properties"])
    assert "open_for" in defs["Question"]["properties"]
    assert defs["Reminders"]["properties"]["quiet_hours"]["pattern"]
