"""PostgreSQL: the ingest of bench/ingest.py with two processes on one local server.

Each process runs its own ChatService (group commit) on its own connection pool and takes half
of the replies, into the same running chat (as two bot workers behind one database would).
The server is tests/pg_server.PostgresServer: a private cluster on tmpfs, fsync and
synchronous_commit off (its data is thrown away), so commits cost less than on a real disk.
Baseline in the same run: the same rows copied in with asyncpg COPY in one transaction.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.ingest import (
    full_speed,
    harness_out_of_gc,
    make_events,
    offered_load,
    service_for,
    set_up_chat,
    warm_up,
)
from bot.core.recorder_sql import MESSAGE_COLUMNS, PARTICIPANT_COLUMNS
from bot.core.store import open_store
from tests.pg_server import PostgresServer

TEMPLATE = "bench_template"
PROCESSES = 2


@dataclass(frozen=True)
class PgOutcome:
    seconds: float
    latencies: list[float]
    stored: int
    batches: int

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


def _worker(
    url: str,
    index: int,
    count: int,
    thread: str | None,
    barrier: Any,
    producers: int,
    per_second: float,
) -> dict[str, Any]:
    """One bot process: its half of the replies, at full speed or at its share of the load."""
    events = make_events(count, thread, seed=100 + index, prefix=f"p{index}-")

    async def main() -> dict[str, Any]:
        store = await open_store(url, create=False)
        try:
            service = service_for(store)
            await warm_up(service)
            with harness_out_of_gc():
                barrier.wait()
                began = time.monotonic()
                if per_second:
                    outcome = await offered_load(service, events, per_second, began + 0.05)
                else:
                    outcome = await full_speed(service, events, producers)
            return {
                "began": began,
                "ended": time.monotonic(),
                "latencies": outcome.latencies,
                "stored": outcome.stored,
                "batches": outcome.batches,
            }
        finally:
            await store.close()

    return asyncio.run(main())


class PgBench:
    """A server, a template database with the running chat, and two worker processes."""

    def __init__(self) -> None:
        self.server = PostgresServer()
        self.thread: str | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._manager: Any = None
        self._copies = 0

    def __enter__(self) -> PgBench:
        self.server.start()
        url = self.server.create_database(TEMPLATE).render_as_string(hide_password=False)
        self.thread = asyncio.run(set_up_chat(url))
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(PROCESSES, mp_context=context)
        self._manager = context.Manager()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        if self._manager is not None:
            self._manager.shutdown()
        self.server.stop()

    def fresh(self) -> tuple[str, str]:
        """A new database cloned from the template: (name, SQLAlchemy URL)."""
        self._copies += 1
        name = f"ingest_{self._copies}"
        url = self.server.create_database(name, template=TEMPLATE)
        return name, url.render_as_string(hide_password=False)

    def ingest(
        self, messages: int, *, producers: int = 0, per_second: float = 0.0
    ) -> tuple[str, PgOutcome]:
        """Two processes, ``messages`` in all; the database name and the combined figures."""
        assert self._pool is not None
        name, url = self.fresh()
        barrier = self._manager.Barrier(PROCESSES + 1)
        share = per_second / PROCESSES
        futures = [
            self._pool.submit(
                _worker, url, i, messages // PROCESSES, self.thread, barrier, producers, share
            )
            for i in range(PROCESSES)
        ]
        barrier.wait(timeout=120)
        parts = [f.result() for f in futures]
        began = min(p["began"] for p in parts)
        ended = max(p["ended"] for p in parts)
        latencies = [x for p in parts for x in p["latencies"]]
        outcome = PgOutcome(
            ended - began,
            latencies,
            sum(p["stored"] for p in parts),
            sum(p["batches"] for p in parts),
        )
        return name, outcome

    def baseline(self, source: str) -> float:
        """Seconds to COPY the rows ``source`` holds into a fresh copy of the template, with
        its participants upserted, in one transaction (asyncpg)."""
        return asyncio.run(self._baseline(source))

    async def _baseline(self, source: str) -> float:
        name, _ = self.fresh()
        read = await asyncpg.connect(self.server.dsn.rsplit("/", 1)[0] + f"/{source}")
        try:
            messages = await read.fetch(
                f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages ORDER BY id"
            )
            people = await read.fetch(
                f"SELECT {', '.join(PARTICIPANT_COLUMNS)} FROM participants"
            )
        finally:
            await read.close()
        conn = await asyncpg.connect(self.server.dsn.rsplit("/", 1)[0] + f"/{name}")
        try:
            began = time.perf_counter()
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "messages", records=[tuple(r) for r in messages], columns=MESSAGE_COLUMNS
                )
                await conn.executemany(
                    f"INSERT INTO participants ({', '.join(PARTICIPANT_COLUMNS)})"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id, user_id) DO UPDATE"
                    " SET messages = participants.messages + excluded.messages,"
                    " last_at = GREATEST(participants.last_at, excluded.last_at)",
                    [tuple(p) for p in people],
                )
            return time.perf_counter() - began
        finally:
            await conn.close()
