"""Who gets an async chat's reminder and when: before_close its question's close, at most
max_per_person, never during the person's quiet hours in their own zone, never to hosts or
to anyone who opted out, and not for a question they answered."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.plan import Question, Reminders
from bot.core.reminders import (
    Person,
    Reminded,
    after_quiet_hours,
    in_quiet_hours,
    plan_reminders,
)
from bot.core.windows import Window

UTC_ZONE = ZoneInfo("UTC")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = Reminders(before_close=timedelta(hours=12), max_per_person=2, quiet_hours="21:00-08:00")


def window(qid: str, opens_days: float, closes_days: float) -> Window:
    question = Question(id=qid, text=f"question {qid}", at=timedelta(days=opens_days))
    index = int(qid[1:]) - 1
    return Window(
        question, index, START + timedelta(days=opens_days), START + timedelta(days=closes_days)
    )


def plan(people, windows, now, **kw):
    args = {
        "windows": windows,
        "now": now,
        "settings": SETTINGS,
        "answered": {},
        "reminded": {},
        "opted_out": set(),
        "zone_of": {},
        "chat_zone": UTC_ZONE,
    }
    args.update(kw)
    due, later = plan_reminders(people, **args)
    return [(p.user_id, w.question_id) for p, w in due], later


def test_quiet_hours_wrap_past_midnight() -> None:
    quiet = (time(21), time(8))
    assert in_quiet_hours(time(23), quiet) and in_quiet_hours(time(7, 59), quiet)
    assert not in_quiet_hours(time(8), quiet) and not in_quiet_hours(time(20, 59), quiet)
    assert in_quiet_hours(time(13), (time(12), time(14)))


def test_a_reminder_in_quiet_hours_waits_for_their_end_in_the_persons_zone() -> None:
    at = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)  # 06:00 in Tokyo, 16:00 in New York
    assert after_quiet_hours(at, TOKYO, (time(21), time(8))) == datetime(
        2026, 12, 2, 23, 0, tzinfo=UTC
    )
    assert after_quiet_hours(at, NEW_YORK, (time(21), time(8))) == at


def test_reminders_go_before_close_in_each_persons_own_hours() -> None:
    # Q1 closes at day 2, 09:00 UTC: the reminder falls at day 1, 21:00 UTC.
    q1 = window("Q1", 0, 2)
    people = [Person("ana", "ana"), Person("ken", "ken"), Person("joe", "joe")]
    zones = {"ken": TOKYO, "joe": NEW_YORK}  # ana has the chat's zone (UTC)
    now = START + timedelta(days=1, hours=12)  # 21:00 UTC: ana's quiet hours begin
    due, later = plan([*people], [q1], now, zone_of=zones)
    assert due == [("joe", "Q1")]  # 16:00 in New York
    assert later == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo: ken's
    due, later = plan(people, [q1], later, zone_of=zones)
    assert due == [("ken", "Q1"), ("joe", "Q1")]  # joe's was claimed by then in the engine
    due, _ = plan(people, [q1], datetime(2026, 12, 3, 8, 0, tzinfo=UTC), zone_of=zones)
    assert ("ana", "Q1") in due  # ana's quiet hours ended at 08:00 UTC, before the close


def test_nobody_who_answered_opted_out_or_hosts_is_reminded_and_at_most_max() -> None:
    q1, q2, q3 = window("Q1", 0, 2), window("Q2", 0, 2), window("Q3", 0, 2)
    people = [
        Person("ana", "ana"),
        Person("bob", "bob"),
        Person("kate", "kate", is_host=True),
        Person("quiet", "quiet"),
        Person("done", "done"),
    ]
    always = Reminders(before_close=timedelta(hours=12), max_per_person=2)  # no quiet hours
    now = START + timedelta(days=1, hours=11)  # 13h before the close
    assert plan(people, [q1, q2, q3], now, settings=always)[0] == []  # not yet: 12h before
    now = START + timedelta(days=1, hours=12)
    due, _ = plan(
        people,
        [q1, q2, q3],
        now,
        answered={"bob": {"Q1"}, "done": {"Q1", "Q2", "Q3"}},
        reminded={"ana": Reminded(1, frozenset({"Q3"}))},
        opted_out={"quiet"},
        settings=always,
    )
    assert due == [("ana", "Q1"), ("bob", "Q2"), ("bob", "Q3")]  # ana had one: one more
