"""Human durations as people write them in chat plans: ``1h40m``, ``57m30s``, ``12:30``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.core import wording

_UNITS = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_WHOLE_UNITS = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[dhms]\s*)+$", re.IGNORECASE)
_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,3}):(\d{2})\s*$")
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

DURATION_PATTERN = r"^\s*((\d+(\.\d+)?\s*[dhmsDHMS]\s*)+|(\d+:)?\d{1,3}:\d{2}|\d+)\s*$"


# The longest duration anything takes (a chat, an async question's window, an offset, an
# /extendchat): longer is a typo, and added to a date it would run past the calendar's end.
LONGEST = timedelta(days=366)


class DurationError(ValueError):
    """Raised with the offending text so plan errors can quote it back to the user."""

    def __init__(self, text: object, *, too_long: bool = False) -> None:
        shown = json.dumps(text, default=str)
        longest = format_duration(LONGEST) if too_long else None
        super().__init__(wording.not_a_duration(shown, longest=longest))
        self.text = text


def parse_duration(value: object) -> timedelta:
    """Accept unit strings, ``[H:]MM:SS`` clocks and plain seconds; refuse anything else,
    and anything longer than ``LONGEST``."""
    found = _parse_duration(value)
    if found > LONGEST:
        raise DurationError(value, too_long=True)
    return found


def _parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise DurationError(value)
    if isinstance(value, int | float):
        if not value >= 0:  # negative, or NaN
            raise DurationError(value)
        return _seconds(value, value)
    if not isinstance(value, str):
        raise DurationError(value)
    text = value.strip()
    if text.isdigit():
        return _seconds(int(text), value)
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = (int(g) if g else 0 for g in clock.groups())
        if seconds >= 60 or (hours and minutes >= 60):
            raise DurationError(value)
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if not text or not _WHOLE_UNITS.match(text):
        raise DurationError(value)
    total = sum(float(n) * _SECONDS[u.lower()] for n, u in _UNITS.findall(text))
    return _seconds(total, value)


def parse_typed_duration(value: str) -> timedelta:
    """A duration a host types in a command (``/extendchat 15``): a bare number is minutes,
    because that is what people mean there, on every platform. Plan files keep
    ``parse_duration``'s rules (a bare number is seconds), so existing plans read the same."""
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        text += "m"
    try:
        return parse_duration(text)
    except DurationError:
        raise DurationError(value) from None


def _seconds(total: float, value: object) -> timedelta:
    """A timedelta, or a DurationError for what it cannot hold (``1e400``, ``9999999999d``)."""
    try:
        return timedelta(seconds=total)
    except OverflowError:
        raise DurationError(value, too_long=True) from None
    except ValueError:
        raise DurationError(value) from None


def format_duration(delta: timedelta) -> str:
    """Render the way the plan writes it, so messages echo the host's own units."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, total = divmod(total, 86400)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{seconds}s" if seconds else "",
    ]
    return sign + ("".join(parts) or "0s")


def format_offset(delta: timedelta) -> str:
    """``MM:SS`` (or ``H:MM:SS``) after the start, as the replies file and the console show."""
    total = int(delta.total_seconds())
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    sign = "-" if total < 0 else ""
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{sign}{minutes:02d}:{seconds:02d}"


_DAYS_AND_CLOCK = re.compile(r"^\s*(\d+)\s*d\s+(\d.*)$", re.IGNORECASE)


def parse_signed_duration(value: object) -> timedelta:
    """A duration that may start with ``-``: before the start, as pre-chat messages are.
    An async chat's replies count days first, ``1d 02:30:00``, or in hours, ``26:30:00``."""
    if isinstance(value, str) and (days := _DAYS_AND_CLOCK.match(value)):
        try:
            return parse_duration(f"{days.group(1)}d") + parse_duration(days.group(2))
        except DurationError as exc:
            raise DurationError(value, too_long="longer" in str(exc)) from None
    if isinstance(value, str) and value.strip().startswith("-"):
        return -parse_duration(value.strip()[1:])
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return -parse_duration(-value)
    return parse_duration(value)
