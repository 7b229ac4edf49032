"""When a chat's runs start: one-off or RFC 5545 RRULE, in the chat's own time zone.

Recurrence is computed in local wall time (so "19:30 every last Monday" stays 19:30 across
daylight-saving changes) and only then turned into UTC. A wall time that does not exist (the
spring-forward gap) moves forward by the gap; an ambiguous one (the autumn repeat) takes its
first occurrence, as calendar programs do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import takewhile
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.core.plan import Chat, Schedule
from bot.core.rrules import ANCHOR as _ANCHOR
from bot.core.rrules import RecurrenceError as RecurrenceError
from bot.core.rrules import check_rrule as check_rrule
from bot.core.rrules import wall_rule


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Attach the zone to a wall time and convert.

    ``fold=0`` is what we want on both odd nights (PEP 495): in the autumn repeat it picks the
    first of the two instants; in the spring gap it applies the offset from before the change,
    which lands the start after the gap, moved forward by the gap's length.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _local_starts(schedule: Schedule, zone: ZoneInfo, after_local: datetime) -> Iterator[datetime]:
    """The schedule's wall-clock starts, the days it skips left out."""
    skipped = frozenset(schedule.skip)
    for local in _rule_starts(schedule, zone, after_local):
        if local.date() not in skipped:
            yield local


def _rule_starts(schedule: Schedule, zone: ZoneInfo, after_local: datetime) -> Iterator[datetime]:
    if schedule.rrule is None:
        if schedule.start is not None and schedule.start >= after_local:
            yield schedule.start
        return
    rule = _rule(schedule.rrule, schedule.start or _ANCHOR, zone)
    yield from rule.xafter(after_local, inc=True)


def first_local_start(chat: Chat, after_local: datetime = datetime.min) -> datetime | None:
    """The schedule's first wall-clock start at or after ``after_local``, skipped or not: a
    calendar's DTSTART."""
    return next(_rule_starts(chat.schedule, chat.zone, after_local), None)


def skipped_starts(chat: Chat) -> list[datetime]:
    """The wall-clock starts the plan's ``skip:`` cancels (a calendar's EXDATE), in order."""
    if chat.schedule.rrule is None:
        start = chat.schedule.start
        return [start] if start is not None and start.date() in chat.schedule.skip else []
    rule = _rule(chat.schedule.rrule, chat.schedule.start or _ANCHOR, chat.zone)
    found = []
    for day in sorted(set(chat.schedule.skip)):
        midnight = datetime.combine(day, datetime.min.time())
        local = rule.after(midnight, inc=True)
        while local is not None and local.date() == day:
            found.append(local)
            local = rule.after(local)
    return found


@lru_cache(maxsize=256)
def _rule(text: str, dtstart: datetime, zone: ZoneInfo) -> rrule:
    """Parsed once per (rule, start, zone); dateutil's cache keeps the occurrences it
    generated, so the engine's frequent look-ups do not replay the recurrence from its first
    start. A UTC ``UNTIL`` is read in the zone's wall time, like the rest of the rule."""
    rule = rrulestr(wall_rule(text, zone), dtstart=dtstart, cache=True)
    assert isinstance(rule, rrule)
    return rule


def iter_starts(chat: Chat, after: datetime) -> Iterator[datetime]:
    """UTC start times at or after ``after`` (aware), in order, lazily."""
    zone = chat.zone
    # Start a day early in local time: a gap or fold may move a start across ``after``.
    local_after = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    for local in _local_starts(chat.schedule, zone, local_after):
        instant = to_utc(local, zone)
        if instant >= after:
            yield instant


def occurrences(chat: Chat, after: datetime, before: datetime) -> list[datetime]:
    """UTC start times in ``[after, before)``."""
    return list(takewhile(lambda start: start < before, iter_starts(chat, after)))


def next_start(chat: Chat, after: datetime) -> datetime | None:
    """The first start at or after ``after``, or None when the schedule has ended."""
    return next(iter_starts(chat, after), None)


def last_start(chat: Chat, before: datetime) -> datetime | None:
    """The latest start before ``before``: the date of a chat whose schedule has ended (a
    one-off in the past, an RRULE past its UNTIL), which a rehearsal replays."""
    schedule = chat.schedule
    local_before = before.astimezone(chat.zone).replace(tzinfo=None)
    if schedule.rrule is None:
        local = schedule.start if schedule.start and schedule.start < local_before else None
    else:
        rule = _rule(schedule.rrule, schedule.start or _ANCHOR, chat.zone)
        local = rule.before(local_before)
        while local is not None and local.date() in schedule.skip:
            local = rule.before(local)
    if local is not None and local.date() in schedule.skip:
        local = None
    return to_utc(local, chat.zone) if local is not None else None


def local_start(zone: ZoneInfo, text: str) -> datetime:
    """``--at 2026-11-20 19:30``: a wall time in ``zone`` (the chat's, or for a spontaneous
    chat the plan's), as UTC; ValueError if not one."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date-time (use e.g. 2026-12-01 19:30)") from None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return to_utc(local, zone)


def past_start_notices(chats: Iterable[Chat], now: datetime) -> list[str]:
    """One line per chat whose schedule has ended: nothing will be scheduled for it."""
    lines = []
    for chat in chats:
        if next_start(chat, now - chat.schedule.duration) is not None:
            continue
        last = last_start(chat, now)
        when = f"{last.astimezone(chat.zone):%Y-%m-%d %H:%M} {chat.timezone}" if last else "?"
        lines.append(
            f"chat {chat.id!r}: its last start ({when}) has passed, so nothing will be "
            "scheduled; give schedule.start a future date, or rehearse it with "
            f"`chathost rehearse --chat {chat.id}` (it plays at its own date, or --at DATETIME)"
        )
    return lines
