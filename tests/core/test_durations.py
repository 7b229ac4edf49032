"""Durations as people type them: host commands read a bare number as minutes on every
platform, while plan files keep their rules (a bare number is seconds)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.durations import DurationError, parse_duration, parse_typed_duration
from bot.core.errors import ExitCode


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("15", timedelta(minutes=15)),
        (" 5 ", timedelta(minutes=5)),
        ("1.5", timedelta(seconds=90)),
        ("1h", timedelta(hours=1)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("10:00", timedelta(minutes=10)),
    ],
)
def test_a_typed_duration_reads_a_bare_number_as_minutes(typed: str, meant: timedelta) -> None:
    assert parse_typed_duration(typed) == meant


@pytest.mark.parametrize("typed", ["", "soon", "15 minutes please", "-5", "5x"])
def test_a_typed_duration_that_is_not_one_is_refused_with_the_text(typed: str) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_typed_duration(typed)


def test_plan_durations_keep_bare_numbers_as_seconds() -> None:
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration(90) == timedelta(seconds=90)


@pytest.mark.parametrize("typed", ["9999999d", "367d", 99999999999, "99999999999d"])
def test_a_duration_longer_than_a_year_is_refused_as_too_long(typed: object) -> None:
    with pytest.raises(DurationError, match="is longer than 366d, the longest duration"):
        parse_duration(typed)


def test_a_plan_with_a_duration_past_the_calendars_end_is_one_line_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duration: 9999999d`` (a typo) made validate and rehearse fail "unexpectedly" (exit
    70, OverflowError) when the run's end was worked out; it is a plan mistake (exit 1)."""
    plan = tmp_path / "chats.yaml"
    plan.write_text(
        "adhoc: {hosts: [kate]}\n"
        "chats:\n"
        "  - {id: a, title: A, channel: x, hosts: [kate], questions: [{id: Q1, at: 1m, text: q}],\n"
        "     schedule: {start: 2030-01-01 10:00, duration: 9999999d}}\n"
    )
    assert main(["validate", str(plan)]) == ExitCode.BAD_INPUT
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{plan}:4:52 chats[0].schedule.duration: \"9999999d\" is longer")
