"""What the archive's list and chat pages show, read with grouped queries (no full runs)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from bot.core.plan import Chat
from bot.core.recap import RunTrend, trends
from bot.core.run_states import STARTED
from bot.core.store import RunRow, Store


@dataclass(frozen=True)
class RunSummary:
    run: RunRow
    messages: int
    participants: int

    @property
    def when(self) -> datetime:
        return self.run.started_at or self.run.scheduled_start

    @property
    def chat(self) -> Chat:
        return Chat.model_validate_json(self.run.plan_json)


async def summaries(store: Store, runs: list[RunRow]) -> list[RunSummary]:
    """Messages and participants (hosts left out) per run, newest first."""
    messages, people = await _counts(store, runs)
    found = [
        RunSummary(run, messages.get(run.id or 0, 0), len(people.get(run.id or 0, ())))
        for run in runs
    ]
    return sorted(found, key=lambda s: s.when, reverse=True)


async def chat_trends(store: Store, runs: list[RunRow]) -> tuple[RunTrend, ...]:
    """New and returning participants over the runs that took place, oldest first."""
    held = sorted((r for r in runs if r.state in STARTED), key=lambda r: r.scheduled_start)
    messages, people = await _counts(store, held)
    order = [(r.id or 0, r.started_at or r.scheduled_start) for r in held]
    return trends(order, people, messages)


async def _counts(
    store: Store, runs: list[RunRow]
) -> tuple[dict[int, int], dict[int, set[str]]]:
    messages: dict[int, int] = defaultdict(int)
    people: dict[int, set[str]] = defaultdict(set)
    for run_id, user_id, kind, count in await store.message_authors([r.id or 0 for r in runs]):
        messages[run_id] += count
        if kind != "host":
            people[run_id].add(user_id)
    return messages, people
