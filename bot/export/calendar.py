"""The plan's chats as an iCalendar (RFC 5545) file: one event per chat, recurring as planned.

Why the ``icalendar`` package: time zones (VTIMEZONE from the zone database), RRULE values
and line folding are where hand-written calendars go wrong, and calendar programs are strict
about them. The occurrences a calendar program expands must be the ones chathost runs
(tests/calendars/test_calendar_file.py checks them against ``bot.core.recurrence`` across a year
with a DST change), so the event's DTSTART is the rule's own first start (RFC 5545 counts
DTSTART as an occurrence even when the rule would not), and an UNTIL written in local time is
turned into UTC as the RFC asks when DTSTART has a zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from icalendar import Calendar, Event, vRecur

from bot.core import wording
from bot.core.archive_links import chat_page
from bot.core.plan import Chat
from bot.core.recurrence import first_local_start, skipped_starts, to_utc

PRODUCT = "-//chathost//chats//EN"
MEDIA_TYPE = "text/calendar; charset=utf-8"


def plan_calendar(chats: Iterable[Chat], *, public_url: str | None, now: datetime) -> bytes:
    """The calendar of these chats; ``now`` stamps the events (DTSTAMP)
    and places the series' first start (the year before it, for a rule with no start)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", wording.CALENDAR_NAME)
    for chat in chats:
        event = chat_event(chat, public_url=public_url, now=now)
        if event is not None:
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def chat_event(chat: Chat, *, public_url: str | None, now: datetime) -> Event | None:
    """One chat as one event (recurring when the chat is); None for a rule with no start."""
    first = first_local_start(chat, _series_from(chat, now))
    if first is None:
        return None
    zone = chat.zone
    event = Event()
    event.add("uid", event_uid(chat))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("summary", f"{chat.title} {chat.tag}".strip())
    event.add("dtstart", first.replace(tzinfo=zone))
    event.add("duration", chat.schedule.duration)
    if chat.schedule.rrule is not None:
        event.add("rrule", _rule(chat))
    skipped = [local.replace(tzinfo=zone) for local in skipped_starts(chat)]
    if skipped:
        event.add("exdate", skipped)
    event.add(
        "location",
        wording.CALENDAR_LOCATION.format(channel=chat.channel.lstrip("#"), platform=chat.platform),
    )
    if chat.tag:
        event.add("categories", [chat.tag])
    page = chat_page(public_url, chat.id)
    if page is not None:
        event.add("url", page)
    event.add("description", _description(chat, page))
    return event


def _series_from(chat: Chat, now: datetime) -> datetime:
    """Where the event's series begins. A rule with no ``start`` is read from 2000 (as the
    engine reads it); a calendar showing runs since 2000 is noise, so the series starts with
    last year, which keeps the rule's phase (an INTERVAL=2 stays on the same weeks) and moves
    DTSTART once a year. A COUNT counts from the real first start, so it keeps it."""
    rule = (chat.schedule.rrule or "").upper()
    if chat.schedule.start is not None or "COUNT" in rule:
        return datetime.min
    return datetime(now.astimezone(chat.zone).year - 1, 1, 1)


def event_uid(chat: Chat) -> str:
    """Stable across writes (a subscribed calendar updates the event instead of adding one),
    and distinct for two communities whose plans both have a chat called ``tea``."""
    where = hashlib.sha256(f"{chat.platform}/{chat.channel}".encode()).hexdigest()[:12]
    return f"{chat.id}-{where}@chathost"


def _rule(chat: Chat) -> vRecur:
    rule = vRecur.from_ical(chat.schedule.rrule or "")
    until = rule.get("UNTIL")
    if until:
        value = until[0]
        if isinstance(value, datetime) and value.tzinfo is None:
            rule["UNTIL"] = [to_utc(value, chat.zone)]
    return rule


def _description(chat: Chat, page: str | None) -> str:
    lines = [chat.intro.strip()] if chat.intro.strip() else []
    lines.append(wording.CALENDAR_QUESTIONS)
    lines += [wording.QUESTION.format(question_id=q.id, question=q.text) for q in chat.questions]
    if page is not None:
        lines += ["", wording.CALENDAR_ARCHIVE.format(url=page)]
    return "\n".join(lines)
