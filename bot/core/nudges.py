"""Who gets a friendly nudge, and when. Pure: the engine supplies the facts.

Rules: only people who have spoken in this run, then stayed silent for ``after`` while at
least one newer question went up; at most ``max_per_person`` nudges each, ``after`` apart;
never hosts, never people who opted out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.plan import Nudges


@dataclass(frozen=True)
class Activity:
    user_id: str
    user_name: str
    last_spoke: datetime
    nudges_sent: int = 0
    last_nudged: datetime | None = None
    is_host: bool = False


def _quiet_since(activity: Activity) -> datetime:
    if activity.last_nudged and activity.last_nudged > activity.last_spoke:
        return activity.last_nudged
    return activity.last_spoke


def _eligible(
    activity: Activity,
    settings: Nudges,
    last_question_at: datetime | None,
    opted_out: Collection[str],
) -> bool:
    return (
        settings.enabled
        and not activity.is_host
        and activity.user_id not in opted_out
        and activity.nudges_sent < settings.max_per_person
        and last_question_at is not None
        and last_question_at > activity.last_spoke
    )


def due_nudges(
    people: Iterable[Activity],
    *,
    now: datetime,
    settings: Nudges,
    last_question_at: datetime | None,
    opted_out: Collection[str],
) -> list[Activity]:
    """People to nudge now, quietest first."""
    due = [
        a
        for a in people
        if _eligible(a, settings, last_question_at, opted_out)
        and now - _quiet_since(a) >= settings.after
    ]
    return sorted(due, key=_quiet_since)


def next_nudge_time(
    people: Iterable[Activity],
    *,
    settings: Nudges,
    last_question_at: datetime | None,
    opted_out: Collection[str],
) -> datetime | None:
    """When the next nudge could fall due, so the scheduler can wake the engine then."""
    times = [
        _quiet_since(a) + settings.after
        for a in people
        if _eligible(a, settings, last_question_at, opted_out)
    ]
    return min(times, default=None)
