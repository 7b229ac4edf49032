"""Reading an RFC 5545 RRULE as a plan writes it. Apart from ``recurrence`` (which computes
the starts from a chat) so that the plan can check its rules without importing what
imports it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.rrule import rrule, rrulestr

# The rule is read against a fixed start: the chat's own first start is not known here.
ANCHOR = datetime(2000, 1, 1)
# RFC 5545 writes the UNTIL of a rule whose start has a time zone in UTC ("...T235959Z"), and
# calendar programs export rules that way; chathost works rules out in wall time.
_UNTIL_UTC = re.compile(r"(UNTIL\s*=\s*)(\d{8}T\d{6})Z", re.IGNORECASE)


class RecurrenceError(ValueError):
    """An RRULE that cannot be read; the message says which part."""


def check_rrule(text: str) -> str:
    """Validate and normalise an RRULE (an optional ``RRULE:`` prefix is accepted)."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if "DTSTART" in body.upper():
        raise RecurrenceError("put the first occurrence in schedule.start, not DTSTART")
    try:
        rule = rrulestr(wall_rule(body, UTC), dtstart=ANCHOR)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"{text!r} is not a valid RRULE: {exc}") from exc
    if not isinstance(rule, rrule):
        raise RecurrenceError(f"{text!r} must be a single RRULE")
    if re.search(r"(^|;)\s*INTERVAL\s*=\s*0+\s*(;|$)", body, re.IGNORECASE):
        # dateutil accepts it, then fails (or loops) when asked for the next start
        raise RecurrenceError(f"{text!r}: INTERVAL must be 1 or more")
    return body


def wall_rule(text: str, zone: tzinfo) -> str:
    """The rule with a UTC ``UNTIL=...Z`` (RFC 5545's form, what calendar programs export)
    turned into ``zone``'s wall time, the time every other part of the rule is read in;
    dateutil refuses a UTC UNTIL next to a start without a zone."""

    def local(match: re.Match[str]) -> str:
        until = datetime.strptime(match.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return f"{match.group(1)}{until.astimezone(zone):%Y%m%dT%H%M%S}"

    return _UNTIL_UTC.sub(local, text)


def runs_on(
    text: str | None, start: datetime | None, day: date, zone: tzinfo = UTC
) -> bool:
    """Whether a schedule (its RRULE, or its one-off start) has a start on this local day:
    a plan may only skip a day its chat would have run."""
    if text is None:
        return start is not None and start.date() == day
    rule = rrulestr(wall_rule(check_rrule(text), zone), dtstart=start or ANCHOR)
    midnight = datetime.combine(day, time())
    found = rule.after(midnight, inc=True)
    return found is not None and found < midnight + timedelta(days=1)
