"""Start times in the chat's own zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.plan import parse_plan
from bot.core.recurrence import RecurrenceError, check_rrule, next_start, occurrences


def chat(schedule: str, tz: str = "Europe/London"):
    text = f"""
chats:
  - id: c
    title: C
    channel: c
    hosts: [h]
    timezone: {tz}
    schedule: {schedule}
    questions: [{{id: Q1, at: 1m, text: q}}]
"""
    return parse_plan(text).chats[0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_last_monday_of_each_month_across_a_year_keeps_local_time() -> None:
    c = chat('{rrule: "FREQ=MONTHLY;BYDAY=-1MO;BYHOUR=19;BYMINUTE=30", duration: 1h}')
    starts = occurrences(c, utc(2026, 1, 1), utc(2027, 1, 1))
    local = [s.astimezone(c.zone) for s in starts]
    assert [d.day for d in local] == [26, 23, 30, 27, 25, 29, 27, 31, 28, 26, 30, 28]
    assert all(d.weekday() == 0 and (d.hour, d.minute) == (19, 30) for d in local)
    # Summer time moves the UTC instant, never the local time.
    assert starts[2] == utc(2026, 3, 30, 18, 30)  # BST
    assert starts[1] == utc(2026, 2, 23, 19, 30)  # GMT


def test_a_start_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    c = chat('{rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", duration: 30m}')
    starts = occurrences(c, utc(2026, 3, 21), utc(2026, 4, 6))
    # 29 March 2026: clocks go 01:00 GMT -> 02:00 BST; 01:30 does not exist that night.
    assert starts == [utc(2026, 3, 22, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 4, 5, 0, 30)]
    assert starts[1].astimezone(c.zone).strftime("%H:%M %Z") == "02:30 BST"


def test_a_start_in_the_autumn_repeat_takes_the_first_occurrence() -> None:
    c = chat('{rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", duration: 30m}')
    starts = occurrences(c, utc(2026, 10, 18), utc(2026, 11, 2))
    # 25 October 2026: 01:30 happens twice (BST, then GMT); the chat runs at the first.
    assert starts == [utc(2026, 10, 18, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 11, 1, 1, 30)]


def test_new_york_dst_night_one_off() -> None:
    c = chat('{start: "2026-11-01 01:30", duration: 1h}', tz="America/New_York")
    assert next_start(c, utc(2026, 10, 1)) == utc(2026, 11, 1, 5, 30)  # EDT, the first 01:30
    assert next_start(c, utc(2026, 11, 1, 6)) is None  # a one-off does not come back


def test_rrule_with_a_first_occurrence_and_a_count() -> None:
    c = chat('{start: "2026-12-01 19:30", rrule: "FREQ=WEEKLY;COUNT=3", duration: 1h}')
    starts = occurrences(c, utc(2026, 1, 1), utc(2028, 1, 1))
    assert [s.date().isoformat() for s in starts] == ["2026-12-01", "2026-12-08", "2026-12-15"]


@pytest.mark.parametrize(
    "rule", ["FREQ=SOMETIMES", "BYDAY=MO", "DTSTART:20260101T000000\nFREQ=DAILY"]
)
def test_bad_rrules_are_refused(rule: str) -> None:
    with pytest.raises(RecurrenceError):
        check_rrule(rule)


def test_an_until_in_utc_as_calendars_export_it_ends_the_rule_at_that_instant() -> None:
    """RFC 5545 writes a zoned rule's UNTIL in UTC (Google Calendar exports
    ``UNTIL=20261216T005959Z``); the plan takes it, and it ends the chat at that instant:
    Tuesday 15 December 20:00 in New York is 01:00 UTC on the 16th, after it."""
    c = chat(
        '{rrule: "FREQ=WEEKLY;BYDAY=TU;BYHOUR=20;UNTIL=20261216T005959Z", duration: 1h, '
        "start: 2026-12-01 20:00}",
        tz="America/New_York",
    )
    assert occurrences(c, utc(2026, 1, 1), utc(2027, 6, 1)) == [
        utc(2026, 12, 2, 1),
        utc(2026, 12, 9, 1),
    ]
    assert next_start(c, utc(2026, 12, 10)) is None
