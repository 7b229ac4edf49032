"""Reading an RFC 5545 RRULE as a plan writes it. Apart from ``recurrence`` (which computes
the starts from a chat) so that the plan can check its rules without importing what
imports it."""

from __future__ import annotations

import re
from datetime import datetime

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
