"""Who gets a reminder in an async chat, and when. Pure: the engine supplies the facts.

Rules: people who took part in this run or in the chat's earlier runs, who have not answered
an open question, ``before_close`` its closing time; at most ``max_per_person`` per run and
one per question; never during their quiet hours in their own time zone (the platform's, else
the chat's): a reminder that falls in them waits for their end, and is dropped when the
question closes first; never hosts, never anyone who opted out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.plan import Reminders
from bot.core.windows import Window


@dataclass(frozen=True)
class Person:
    user_id: str
    user_name: str
    is_host: bool = False


@dataclass(frozen=True)
class Reminded:
    """What was sent (or claimed) already in this run: how many, and for which questions."""

    count: int = 0
    questions: frozenset[str] = frozenset()


def in_quiet_hours(local: time, quiet: tuple[time, time]) -> bool:
    """Whether a local time falls in quiet hours (``21:00-08:00`` wraps past midnight)."""
    start, end = quiet
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def after_quiet_hours(at: datetime, zone: ZoneInfo, quiet: tuple[time, time] | None) -> datetime:
    """``at``, or the end of the quiet hours it falls in, in ``zone``'s local time."""
    if quiet is None:
        return at
    local = at.astimezone(zone)
    if not in_quiet_hours(local.time().replace(tzinfo=None), quiet):
        return at
    end = local.replace(hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0)
    if end <= local:
        end = (local + timedelta(days=1)).replace(
            hour=quiet[1].hour, minute=quiet[1].minute, second=0, microsecond=0
        )
    # Through ``zone``'s rules again: a wall time in a DST gap or fold is read as UTC says.
    return end.astimezone(at.tzinfo)


def reminder_time(
    window: Window, settings: Reminders, zone: ZoneInfo, quiet: tuple[time, time] | None
) -> datetime | None:
    """When a reminder for ``window`` may go to someone in ``zone``; None when it cannot
    before the question closes."""
    at = after_quiet_hours(window.closes - settings.before_close, zone, quiet)
    return at if at < window.closes else None


def plan_reminders(
    people: Iterable[Person],
    *,
    windows: Iterable[Window],
    now: datetime,
    settings: Reminders,
    answered: Mapping[str, Collection[str]],
    reminded: Mapping[str, Reminded],
    opted_out: Collection[str],
    zone_of: Mapping[str, ZoneInfo],
    chat_zone: ZoneInfo,
) -> tuple[list[tuple[Person, Window]], datetime | None]:
    """The reminders due at ``now`` (the soonest-closing question first, within each
    person's allowance), and when the next one falls due (None: no more can)."""
    quiet = settings.quiet
    open_windows = sorted((w for w in windows if w.closes > now), key=lambda w: w.closes)
    due: list[tuple[Person, Window]] = []
    later: list[datetime] = []
    for person in people:
        if person.is_host or person.user_id in opted_out:
            continue
        sent = reminded.get(person.user_id, Reminded())
        if sent.count >= settings.max_per_person:
            continue
        done = answered.get(person.user_id, ())
        zone = zone_of.get(person.user_id, chat_zone)
        allowance = settings.max_per_person - sent.count
        for window in open_windows:
            if window.question_id in done or window.question_id in sent.questions:
                continue
            at = reminder_time(window, settings, zone, quiet)
            if at is None:
                continue
            if at > now:
                later.append(at)
            elif allowance > 0:
                due.append((person, window))
                allowance -= 1
    return due, min(later, default=None)
