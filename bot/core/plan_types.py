"""The value types of the plan (chats.yaml): durations, local date-times, time zones and
clock times, each read the way a host writes it and refused with the text quoted back."""

from __future__ import annotations

import contextlib
import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, PlainSerializer, ValidationInfo, WithJsonSchema

from bot.core.durations import DURATION_PATTERN, format_duration, parse_duration
from bot.core.rrules import RecurrenceError, check_rrule


@lru_cache(maxsize=4096)
def _parse_duration_text(text: str) -> timedelta:
    return parse_duration(text)


def _read_duration(value: object) -> timedelta:
    """A big plan repeats the same few durations thousands of times: parse each text once.
    (Errors are not cached; they are raised again, as the first time.)"""
    return _parse_duration_text(value) if isinstance(value, str) else parse_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(_read_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "description": "A duration: 5d, 1h, 1h40m, 57m30s, 12:30 (MM:SS) or seconds.",
        }
    ),
]


def _parse_local_datetime(value: object) -> object:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError as exc:
            shown = json.dumps(value)
            raise ValueError(f"{shown} is not a date-time (use e.g. 2026-12-01 19:30)") from exc
    return value


LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_parse_local_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A local date-time in the chat's time zone, e.g. 2026-12-01 19:30.",
        }
    ),
]


def _local_date(value: object) -> object:
    """A skipped day is a local date, YYYY-MM-DD (YAML reads one as a date already); a time
    or another form ("12/15/2026", a date-time) is refused with the form to write."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value.strip())
    shown = json.dumps(value, default=str)
    raise ValueError(
        f"{shown} is not a date: write the day as YYYY-MM-DD (e.g. 2026-12-28), a local date "
        "in the chat's time zone, without a time"
    )


LocalDate = Annotated[
    date,
    BeforeValidator(_local_date),
    WithJsonSchema(
        {"type": "string", "format": "date", "description": "A local date, e.g. 2026-12-28."}
    ),
]


@lru_cache(maxsize=1024)
def checked_rrule(text: str) -> str:
    """Chats of one community share a few rules; dateutil takes ~0.2 ms to read each one."""
    try:
        return check_rrule(text)
    except RecurrenceError as exc:
        raise ValueError(str(exc)) from exc


def _check_timezone(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):  # `timezone: yes` reads as a boolean
        raise ValueError(f"{json.dumps(name, default=str)} is not a time zone name")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        shown = json.dumps(name)
        raise ValueError(f"{shown} is not a known time zone (use e.g. Europe/London)") from exc
    return name


def _digits_as_text(value: object) -> object:
    """A channel or person id written bare (``channel: -1001234567890``, ``hosts: [42]``) is
    read by YAML as a number; its digits are the id people meant. (YAML ints are exact in
    Python, so nothing is lost; a bool or a float is left for the type check to refuse.)"""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PlatformName = Annotated[
    str,
    BeforeValidator(_digits_as_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "minLength": 1}, {"type": "integer"}],
            "description": "A name (general, @kate) or a platform's numeric id.",
        }
    ),
]


TimeZoneName = Annotated[
    str,
    BeforeValidator(_check_timezone),
    WithJsonSchema({"type": "string", "description": "An IANA time zone, e.g. America/New_York."}),
]


_HHMM = r"([01]\d|2[0-3]):[0-5]\d"
CLOCK_TIME_PATTERN = rf"^{_HHMM}$"
QUIET_HOURS_PATTERN = rf"^{_HHMM}-{_HHMM}$"


def clock_time(text: str) -> time:
    return time.fromisoformat(text)


# Where the platform plugins are declared (``bot.platforms`` loads them). The plan is checked
# against their names only: the core never imports a plugin.
PLATFORM_ENTRY_POINTS = "chathost.platforms"
# The validation context's key for the platform names a plan may use.
PLATFORMS_CONTEXT = "platforms"


def installed_platforms() -> frozenset[str]:
    """The names of the installed platform plugins, read from the packages' metadata without
    loading any of them: what a plan is checked against when its caller names none."""
    return frozenset(point.name for point in entry_points(group=PLATFORM_ENTRY_POINTS))


def check_platform(value: str, info: ValidationInfo) -> str:
    known = (info.context or {}).get(PLATFORMS_CONTEXT)
    if known is None or value in known:
        return value
    if not known:
        raise ValueError(
            f"{json.dumps(value)}: no platform is installed (reinstall chathost: pip install -e .)"
        )
    names = ", ".join(sorted(known))
    raise ValueError(f"{json.dumps(value)} is not an installed platform (use one of: {names})")
