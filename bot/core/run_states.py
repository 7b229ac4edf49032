"""A run's states and the groups every reader asks about, declared once.

The store keeps the state as its text (``StrEnum`` members are those strings), so rows written
before this module existed read the same. A run goes scheduled -> announced -> running (<->
paused) -> ended -> summarised; a start nobody took up within its window is missed.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    SCHEDULED = "scheduled"
    ANNOUNCED = "announced"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"
    SUMMARISED = "summarised"
    MISSED = "missed"


# Not started yet: announcements may go out, /startchat may start it.
WAITING = (RunState.SCHEDULED, RunState.ANNOUNCED)
# Questions are being asked: answers count as on time.
LIVE = (RunState.RUNNING, RunState.PAUSED)
# Has a host command to act on (/endchat, /chatstatus...).
ACTIVE = WAITING + LIVE
# The engine still has work to do for it (the recap of an ended run included).
OPEN = (*ACTIVE, RunState.ENDED)
# Took place: the archive lists it.
STARTED = (*LIVE, RunState.ENDED, RunState.SUMMARISED)
# Nothing more will happen in it, apart from late answers to a summarised one.
DONE = (RunState.SUMMARISED, RunState.MISSED)
