"""Who gets nudged: people who spoke, then went quiet while questions went on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.nudges import Activity, due_nudges, next_nudge_time
from bot.core.plan import Nudges

T = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
SETTINGS = Nudges(after=timedelta(minutes=10), max_per_person=2)


def minutes(n: float) -> datetime:
    return T + timedelta(minutes=n)


def due(
    people: list[Activity],
    now: float,
    *,
    question_at: float | None = 12,
    opted_out: set[str] | None = None,
    settings: Nudges = SETTINGS,
) -> list[str]:
    found = due_nudges(
        people,
        now=minutes(now),
        settings=settings,
        last_question_at=minutes(question_at) if question_at is not None else None,
        opted_out=opted_out or set(),
    )
    return [a.user_id for a in found]


def test_quiet_after_speaking_while_a_new_question_went_up() -> None:
    people = [Activity("ann", "ann", minutes(5)), Activity("bob", "bob", minutes(11))]
    assert due(people, 14) == []  # not silent long enough
    assert due(people, 15) == ["ann"]
    assert due(people, 21) == ["ann", "bob"]  # quietest first


def test_no_nudge_without_a_new_question_since_they_spoke() -> None:
    assert due([Activity("ann", "ann", minutes(13))], 40) == []
    assert due([Activity("ann", "ann", minutes(5))], 40, question_at=None) == []


def test_never_hosts_or_people_who_opted_out() -> None:
    people = [
        Activity("kate", "kate", minutes(1), is_host=True),
        Activity("ann", "ann", minutes(1)),
    ]
    assert due(people, 30, opted_out={"ann"}) == []


def test_at_most_max_per_person_and_spaced_by_after() -> None:
    once = Activity("ann", "ann", minutes(1), nudges_sent=1, last_nudged=minutes(11))
    assert due([once], 20) == []  # only 9 minutes since the last nudge
    assert due([once], 21) == ["ann"]
    twice = Activity("ann", "ann", minutes(1), nudges_sent=2, last_nudged=minutes(21))
    assert due([twice], 60) == []


def test_disabled_nudges_send_nothing() -> None:
    off = Nudges(enabled=False)
    assert due([Activity("ann", "ann", minutes(1))], 60, settings=off) == []


def test_next_nudge_time_is_when_the_quietest_falls_due() -> None:
    people = [Activity("ann", "ann", minutes(5)), Activity("bob", "bob", minutes(3))]
    when = next_nudge_time(people, settings=SETTINGS, last_question_at=minutes(12), opted_out=set())
    assert when == minutes(13)
