"""The recap's store reads and exports on PostgreSQL, not only SQLite."""

from __future__ import annotations

import csv
import io
import json

from bot.core.snapshot import find_run_id, load_stored_run
from bot.core.store import open_store
from bot.export.formats import render
from bot.web.queries import chat_trends, summaries
from tests.recap.helpers import FIRST, FIRST_RUN, SECOND, SECOND_RUN, rehearse


async def test_two_runs_on_postgres(postgres_url: str) -> None:
    store = await open_store(postgres_url)
    try:
        first = (await rehearse(store, FIRST_RUN, FIRST)).run_id
        second = (await rehearse(store, SECOND_RUN, SECOND)).run_id
        assert await find_run_id(store, "latest") == second
        stored = await load_stored_run(store, first)
        assert stored.recap.stats.answers_per_question == {"Q1": 5, "Q2": 3, "Q3": 3}
        recap2 = (await load_stored_run(store, second)).recap
        assert (recap2.stats.first_timers, recap2.stats.returning) == (1, 2)
        runs = await store.runs_for_chat("tea")
        points = await chat_trends(store, runs)
        assert [(p.participants, p.new, p.returning, p.messages) for p in points] == [
            (5, 5, 0, 14),
            (3, 1, 2, 3),
        ]
        assert [(s.run.id, s.participants) for s in await summaries(store, runs)] == [
            (second, 3),
            (first, 5),
        ]
        doc = json.loads(render(stored, "json").content)
        rows = list(csv.DictReader(io.StringIO(render(stored, "csv").content.decode("utf-8-sig"))))
        assert len(rows) == doc["stats"]["messages"] == 14
    finally:
        await store.close()
