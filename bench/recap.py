"""Recap: a large stored run read back, summarised (build_recap) and exported in every format
bot/export offers, against one pass that only tokenises the same texts (the least any recap
with themes must do).

The run is filled through the ingest path (group commit), with links, mentions and emoji in
the texts, and reactions (some of them hosts' stars) added with plain SQL.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.ingest import make_events, sqlite_template, sqlite_url
from bench.ingest import service_for as ingest_service
from bot.core.snapshot import load_stored_run
from bot.core.store import open_store
from bot.core.text import skip_words, words
from bot.export.formats import FORMATS, render

EXTRAS = [
    "see https://example.org/notes for more",
    "<https://slack.com/help|the help pages> helped",
    "thanks <@U024BE7LH> for that",
    "so much this 🎉",
    "I’d say it's the team’s habits",
]


@dataclass(frozen=True)
class RecapOutcome:
    messages: int
    load_seconds: float  # read the run and build the recap (load_stored_run)
    export_seconds: dict[str, float]
    baseline_seconds: float  # tokenise every text once

    @property
    def total(self) -> float:
        return self.load_seconds + sum(self.export_seconds.values())


async def fill_run(folder: Path, messages: int) -> tuple[Path, int]:
    """A database with one run of ``messages`` messages and some reactions; its run id."""
    template, thread = await sqlite_template(folder)
    db = folder / "recap.db"
    db.write_bytes(template.read_bytes())
    rng = random.Random(11)
    events = make_events(messages, thread, seed=11)
    events = [
        e if rng.random() > 0.2 else replace(e, text=f"{e.text} {rng.choice(EXTRAS)}")
        for e in events
    ]
    store = await open_store(sqlite_url(db))
    try:
        service = ingest_service(store)

        async def producer(feed: list) -> None:  # type: ignore[type-arg]
            for event in feed:
                await service.on_event(event)

        await asyncio.gather(*(producer(events[i::500]) for i in range(500)))
        run_id = (await store.all_runs())[0].id or 0
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM messages WHERE run_id = ?", (run_id,))]
        picked = rng.sample(ids, min(len(ids), messages // 10))
        rows = [
            (m, f"u{rng.randrange(400)}", "someone", rng.choice(["+1", "heart", "tada"]))
            for m in picked
        ] + [(m, "host0", "host0", "star") for m in picked[:30]]
        conn.executemany(
            "INSERT OR IGNORE INTO reactions (message_id, user_id, user_name, emoji, created_at)"
            " VALUES (?, ?, ?, ?, '2026-12-01 19:58:00.000000')",
            rows,
        )
    return db, run_id


async def measure_recap(db: Path, run_id: int) -> RecapOutcome:
    store = await open_store(sqlite_url(db))
    try:
        began = time.perf_counter()
        stored = await load_stored_run(store, run_id)
        load = time.perf_counter() - began
    finally:
        await store.close()
    exports: dict[str, float] = {}
    for fmt in FORMATS:
        began = time.perf_counter()
        render(stored, fmt)
        exports[fmt] = time.perf_counter() - began
    texts = [m.text for m in stored.view.messages]
    began = time.perf_counter()
    skip = skip_words((stored.chat.tag,))
    for text in texts:
        words(text, skip=skip)
    baseline = time.perf_counter() - began
    return RecapOutcome(len(texts), load, exports, baseline)
