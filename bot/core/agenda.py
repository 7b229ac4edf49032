"""Which runs an engine tick must look at, so a tick stays short with a thousand chats.

Why: a tick used to read every open run and ask each one (several queries apiece) whether
anything was due, then ask again to compute the next wake time. With many chats at once that
costs seconds per tick, and every question waits for it. The engine now remembers, per run,
the earliest moment anything could fall due for it (its *wake*: next question, end, nudge,
announcement) together with the run's ``version``:

- a **full pass** reads every open run's id and ``version`` and reads in full and steps only
  the runs that are due, new, changed (another process or a command bumped ``version``) or
  touched by this process; it runs at least every ``full_pass`` (a few seconds, under the
  scheduler's heartbeat) and when a new run may need creating;
- in between, a tick reads and steps only the runs whose wake has come or that this process
  changed (``touch``).

A remembered wake is a lower bound: messages and sent nudges only ever make a nudge fall due
later, and every other input to a run's wake changes its ``version``. So looking at a run only
when its wake has come, or its version moved, misses nothing the old every-run tick would do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.store import RunRow

# Changes made by other processes are noticed within this long (the heartbeat is 15 s).
FULL_PASS = timedelta(seconds=5)


@dataclass(frozen=True)
class _Entry:
    version: int
    wake: datetime | None  # None: nothing will fall due by the clock (paused, broken)


class Agenda:
    def __init__(self, full_pass: timedelta = FULL_PASS) -> None:
        self.full_pass = full_pass
        self._entries: dict[int, _Entry] = {}
        self._touched: set[int] = set()
        self._full_due: datetime | None = None  # None: the next tick is a full pass
        self._others: datetime | None = None  # when a new run is to be created (a full pass)

    def full_pass_due(self, now: datetime) -> bool:
        return self._full_due is None or now >= self._full_due

    def force_full_pass(self) -> None:
        """After a failed tick nothing remembered is trusted."""
        self._full_due = None

    def touch(self, run_id: int) -> None:
        """This process changed the run (a step, a command): look at it on the next tick."""
        self._touched.add(run_id)

    def due(self, now: datetime) -> list[int]:
        """Runs to read on a tick between full passes."""
        due = {i for i, e in self._entries.items() if e.wake is not None and e.wake <= now}
        return sorted(due | self._touched)

    def needs_look(self, run: RunRow, now: datetime) -> bool:
        return self.needs_look_at(run.id or 0, run.version, now)

    def needs_look_at(self, run_id: int, version: int, now: datetime) -> bool:
        """A full pass reads in full only the runs this says need a look."""
        entry = self._entries.get(run_id)
        return (
            entry is None
            or run_id in self._touched
            or entry.version != version
            or (entry.wake is not None and entry.wake <= now)
        )

    def record(self, run: RunRow, wake: datetime | None) -> None:
        """The run as left by this tick, and the earliest moment it next needs a look."""
        self._entries[run.id or 0] = _Entry(run.version, wake)
        self._touched.discard(run.id or 0)

    def broken(self, run_id: int) -> None:
        """A run that failed to advance waits for the next full pass, then is tried again."""
        self._entries[run_id] = _Entry(-1, None)
        self._touched.discard(run_id)

    def forget(self, run_id: int) -> None:
        self._entries.pop(run_id, None)
        self._touched.discard(run_id)

    def keep_only(self, open_ids: Iterable[int]) -> None:
        """After a full pass: runs that are no longer open need no looking at."""
        keep = set(open_ids)
        for run_id in [i for i in self._entries if i not in keep]:
            del self._entries[run_id]

    def finish_full_pass(self, now: datetime, others: Iterable[datetime]) -> None:
        """``others``: when a new run must be created (each one is a full pass)."""
        self._others = min(others, default=None)
        due = now + self.full_pass
        self._full_due = due if self._others is None else min(due, self._others)

    def next_wake(self) -> datetime | None:
        times = [e.wake for e in self._entries.values() if e.wake is not None]
        if self._others is not None:
            times.append(self._others)
        return min(times, default=None)
