"""The .ics a calendar program reads agrees with the runs chathost starts.

Each file is parsed back with ``icalendar`` and expanded with ``recurring-ical-events`` (an
independent implementation of RFC 5545's recurrence) and compared with
``bot.core.recurrence.occurrences`` over 2027: the last Monday of each month in London
(BST starts 28 March, ends 31 October), a fortnightly rule with a local UNTIL in New York,
and a one-off on the night Sydney's clocks go back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.plan import Chat, Plan, PlanError
from bot.core.recurrence import occurrences
from bot.core.store import Store
from bot.export.calendar import event_uid, plan_calendar
from tests.calendars.plans import PLAN, plan
from tests.conftest import T0
from tests.fakes.port import FakePort
from tests.support import make_plan

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
YEAR = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def expanded(ics: bytes, chat: Chat) -> list[datetime]:
    calendar = icalendar.Calendar.from_ical(ics)
    events = recurring_ical_events.of(calendar).between(*YEAR)
    ours = [e for e in events if str(e["UID"]) == event_uid(chat)]
    return sorted(e["DTSTART"].dt.astimezone(UTC) for e in ours)


@pytest.mark.parametrize("chat_id", ["last-monday", "weekly", "one-off"])
def test_a_calendar_program_expands_the_runs_chathost_starts(chat_id: str) -> None:
    chats = plan().chats
    ics = plan_calendar(chats, public_url=None, now=NOW)
    chat = next(c for c in chats if c.id == chat_id)
    ours = occurrences(chat, *YEAR)
    assert ours, "the plan must have runs in the year compared"
    assert expanded(ics, chat) == ours


def test_last_monday_keeps_its_wall_time_across_dst_and_skips_the_holiday() -> None:
    chat = plan().chats[0]
    runs = expanded(plan_calendar([chat], public_url=None, now=NOW), chat)
    local = [r.astimezone(chat.zone) for r in runs]
    assert {(t.hour, t.minute) for t in local} == {(19, 30)}
    assert {r.hour for r in runs} == {18, 19}  # 19:30 BST is 18:30 UTC, GMT is 19:30 UTC
    assert all(t.weekday() == 0 and (t + timedelta(days=7)).month != t.month for t in local)
    assert datetime(2027, 8, 30).date() not in {t.date() for t in local}  # skip: -> EXDATE
    assert len(runs) == 11


def test_the_event_says_what_a_reader_needs() -> None:
    chat = plan().chats[0]
    ics = plan_calendar([chat], public_url="https://chats.example.org/", now=NOW)
    event = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Learning chat #lrnchat"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DURATION").total_seconds() == 3600
    assert str(event["URL"]) == "https://chats.example.org/chats/last-monday"
    assert str(event["LOCATION"]) == "#learning on slack"
    text = str(event["DESCRIPTION"])
    assert "Q2: Culture or tools first?" in text and "https://chats.example.org/chats" in text
    zones = icalendar.Calendar.from_ical(ics).walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/London"]


def test_the_uid_stays_the_same_between_writes_and_the_series_does_not_start_in_2000() -> None:
    chat = plan().chats[0]
    first = icalendar.Calendar.from_ical(plan_calendar([chat], public_url=None, now=NOW))
    later = icalendar.Calendar.from_ical(
        plan_calendar([chat], public_url=None, now=datetime(2027, 6, 1, tzinfo=UTC))
    )
    (a,), (b,) = first.walk("VEVENT"), later.walk("VEVENT")
    assert a["UID"] == b["UID"]
    assert a.decoded("DTSTART").year == 2025  # the year before "now"; the rule's phase kept


def test_a_local_until_is_written_in_utc() -> None:
    chat = plan().chats[1]
    event = icalendar.Calendar.from_ical(plan_calendar([chat], public_url=None, now=NOW)).walk(
        "VEVENT"
    )[0]
    until = event["RRULE"]["UNTIL"][0]
    assert until.tzinfo is not None and until.utcoffset().total_seconds() == 0
    assert until == datetime(2027, 12, 31, 17, tzinfo=UTC)  # 12:00 in New York, EST


def test_a_skipped_run_is_not_started() -> None:
    chat = plan().chats[0]
    august = occurrences(chat, datetime(2027, 8, 1, tzinfo=UTC), datetime(2027, 9, 1, tzinfo=UTC))
    assert august == []


def test_skipping_a_day_the_chat_does_not_run_is_one_clear_line() -> None:
    wrong = PLAN.replace("skip: [2027-08-30]", "skip: [2027-08-31]")
    with pytest.raises(PlanError) as caught:
        plan(wrong)
    text = str(caught.value)
    assert "2027-08-31 is not a day this chat runs on" in text
    assert "chats[0].schedule" in text or "line" in text


@pytest.mark.parametrize("day", ['"08/30/2027"', "2027-08-30T19:30", '"2027-08-30 19:30"', "20270830"])
def test_a_skipped_day_in_another_form_says_the_form_to_write(day: str) -> None:
    """A US date, a date-time (in any zone) or digits: one line naming YYYY-MM-DD, not
    pydantic's "invalid character in year" or "should have zero time"."""
    with pytest.raises(PlanError) as caught:
        plan(PLAN.replace("skip: [2027-08-30]", f"skip: [{day}]"))
    [issue] = caught.value.issues
    assert issue.path == "chats[0].schedule.skip[0]"
    assert "is not a date: write the day as YYYY-MM-DD (e.g. 2026-12-28)" in issue.message


@pytest.mark.parametrize(
    ("public_url", "link"),
    [
        ("https://chats.example.org/", "https://chats.example.org/chats/tea/calendar.ics"),
        (None, None),
    ],
)
async def test_an_announcement_links_the_chats_calendar_when_the_archive_is_public(
    store: Store, clock: SimClock, public_url: str | None, link: str | None
) -> None:
    chat = make_plan().chats[0].model_copy(update={"announce": [timedelta(minutes=30)]})
    port = FakePort()
    engine = Engine(Plan(chats=[chat]), store, lambda _: port, clock, public_url=public_url)
    await engine.start()
    clock.set(T0 - timedelta(minutes=30))
    await engine.tick()
    (announcement,) = [s.message.text for s in port.sent if s.message.kind == "announce"]
    if link is None:
        assert "calendar" not in announcement
    else:
        assert announcement.endswith(f"Add it to your calendar: {link}")
