"""Reading an RFC 5545 RRULE as a plan writes it. Apart from ``recurrence`` (which computes
the starts from a chat) so that the plan can check its rules without importing what
imports it."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr

# The rule is read against a fixed start: the chat's own first start is not known here.
ANCHOR = datetime(2000, 1, 1)


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
        rule = rrulestr(body, dtstart=ANCHOR)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"{text!r} is not a valid RRULE: {exc}") from exc
    if not isinstance(rule, rrule):
        raise RecurrenceError(f"{text!r} must be a single RRULE")
    if re.search(r"(^|;)\s*INTERVAL\s*=\s*0+\s*(;|$)", body, re.IGNORECASE):
        # dateutil accepts it, then fails (or loops) when asked for the next start
        raise RecurrenceError(f"{text!r}: INTERVAL must be 1 or more")
    return body


def runs_on(text: str | None, start: datetime | None, day: date) -> bool:
    """Whether a schedule (its RRULE, or its one-off start) has a start on this local day:
    a plan may only skip a day its chat would have run."""
    if text is None:
        return start is not None and start.date() == day
    rule = rrulestr(check_rrule(text), dtstart=start or ANCHOR)
    midnight = datetime.combine(day, time())
    found = rule.after(midnight, inc=True)
    return found is not None and found < midnight + timedelta(days=1)
