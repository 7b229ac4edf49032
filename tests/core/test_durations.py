"""Durations as people type them: host commands read a bare number as minutes on every
platform, while plan files keep their rules (a bare number is seconds)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.durations import DurationError, parse_duration, parse_typed_duration


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
