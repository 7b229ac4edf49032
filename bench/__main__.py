"""Run every benchmark and print one table: ``.venv/bin/python -m bench`` (``make bench``).

Options: ``--quick`` (small sizes, a smoke run of the harness: the figures mean little),
``--only ingest,scale,async,recap,sending,pg,plans,rehearsal`` (a subset), ``--chats N`` (the
scale section's size).
Every figure is measured next to its baseline in the same run; throughputs are medians over
repeats, because the machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Latency, Row, Table, median, thousands

SECTIONS = ("ingest", "scale", "async", "recap", "sending", "pg", "plans", "rehearsal")


@dataclass(frozen=True)
class Sizes:
    ingest: int = 100_000
    repeats: int = 3
    producers: int = 2000
    offered: float = 2000.0
    offered_messages: int = 100_000
    one_by_one: int = 1000
    chats: int = 1000
    questions: int = 10
    gap: float = 15.0
    spread: float = 60.0
    async_chats: int = 1000
    async_day_seconds: float = 400.0  # wall seconds per simulated day of the async chats
    recap: int = 50_000
    recap_repeats: int = 3
    send: int = 200
    send_rate: float = 10.0
    pg: int = 100_000
    pg_repeats: int = 2
    pg_offered_messages: int = 100_000
    plan_chats: int = 3000
    plan_repeats: int = 3
    rehearsal: int = 20_000
    rehearsal_repeats: int = 3


QUICK = Sizes(
    ingest=5000,
    repeats=1,
    producers=500,
    offered_messages=2000,
    one_by_one=100,
    chats=50,
    questions=3,
    gap=2.0,
    spread=2.0,
    async_chats=50,
    async_day_seconds=20.0,
    recap=2000,
    recap_repeats=1,
    send=20,
    send_rate=20.0,
    pg=5000,
    pg_repeats=1,
    pg_offered_messages=2000,
    plan_chats=100,
    plan_repeats=1,
    rehearsal=1000,
    rehearsal_repeats=1,
)


def ok(value: float, limit: float) -> bool:
    return value <= limit


def ingest_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.ingest import (
        make_events,
        sqlite_baseline,
        sqlite_ingest,
        sqlite_template,
        stored_rows,
    )

    async def template() -> tuple[Path, str | None]:
        return await sqlite_template(folder)

    tpl, thread = asyncio.run(template())
    events = make_events(sizes.ingest, thread)
    rates, baselines, runs = [], [], []
    for i in range(sizes.repeats):  # interleaved, so both see the same machine
        db = folder / f"ingest{i}.db"
        run = asyncio.run(sqlite_ingest(tpl, db, events, producers=sizes.producers))
        runs.append(run)
        rates.append(run.throughput)
        messages, people = stored_rows(db)
        base = sqlite_baseline(tpl, folder / f"base{i}.db", messages, people)
        baselines.append(len(messages) / base)
        db.unlink()
    rate, base_rate = median(rates), median(baselines)
    typical = sorted(runs, key=lambda r: r.throughput)[len(runs) // 2]
    stored_all = all(r.stored == sizes.ingest for r in runs)
    alone = asyncio.run(
        sqlite_ingest(tpl, folder / "alone.db", events[: sizes.one_by_one], producers=1)
    )
    offered_events = make_events(sizes.offered_messages, thread, seed=8)
    paced = asyncio.run(
        sqlite_ingest(tpl, folder / "paced.db", offered_events, per_second=sizes.offered)
    )
    paced_lat = Latency.of(paced.latencies)
    n = f"{sizes.ingest:,}"
    return [
        Row(
            "1 ingest SQLite",
            f"{n} replies, {sizes.producers} producers: msg/s (median of {sizes.repeats})",
            thousands(rate),
            f"{thousands(base_rate)} (executemany)",
            f"{rate / base_rate:.2f}",
            ">= 0.50",
            rate / base_rate >= 0.5 and stored_all,
        ),
        Row(
            "1 ingest SQLite",
            "  full speed: event -> commit p50 / p99 / max ms",
            str(Latency.of(typical.latencies)),
            "",
            "",
            "",
            None,
        ),
        Row(
            "1 ingest SQLite",
            f"  rows per commit (mean of {typical.batches} batches)",
            f"{sizes.ingest / max(typical.batches, 1):.0f}",
        ),
        Row(
            "1 ingest SQLite",
            f"{sizes.offered_messages:,} offered at {sizes.offered:,.0f}/s: achieved msg/s",
            thousands(paced.throughput),
            "",
            "",
            "",
            paced.stored == sizes.offered_messages,
        ),
        Row(
            "1 ingest SQLite",
            "  arrival -> commit p50 / p99 / max ms",
            str(paced_lat),
            "",
            "",
            "p99 < 20 ms",
            paced_lat.p99 < 20,
        ),
        Row(
            "1 ingest SQLite",
            f"one producer, each reply alone in its batch ({sizes.one_by_one:,}): msg/s",
            thousands(alone.throughput),
            f"{thousands(base_rate)} (executemany)",
            f"{alone.throughput / base_rate:.3f}",
        ),
    ]


def scale_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.scale import Scenario, run_scale_alone

    scenario = Scenario(sizes.chats, sizes.questions, sizes.gap, sizes.spread)
    outcome = run_scale_alone(folder / "scale.db", scenario)
    late = Latency.of(outcome.lateness)
    what = (
        f"{sizes.chats:,} chats x {sizes.questions} questions, {sizes.gap:g} s apart, "
        f"starts over {sizes.spread:g} s"
    )
    return [
        Row(
            "2 scale",
            f"{what}: questions posted",
            f"{len(outcome.lateness):,} / {outcome.expected:,}",
            "",
            "",
            "all",
            len(outcome.lateness) == outcome.expected,
        ),
        Row(
            "2 scale",
            "  lateness vs schedule p50 / p99 / max ms (real clock)",
            str(late),
            "",
            "",
            "p99 < 100 ms",
            late.p99 < 100,
        ),
        Row(
            "2 scale",
            "  peak memory of its own process (VmHWM) MB",
            f"{outcome.peak_rss_mb:.0f}",
            "",
            "",
            "< 300 MB",
            outcome.peak_rss_mb < 300,
        ),
        Row(
            "2 scale",
            "  engine ticks; CPU ms per post; set-up (plan + runs) s",
            f"{outcome.ticks:,}; {1000 * outcome.cpu_seconds / max(outcome.posts, 1):.1f};"
            f" {outcome.set_up_seconds:.1f}",
        ),
    ]


def async_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.async_scale import AsyncScenario, run_async_scale_alone

    scenario = AsyncScenario(chats=sizes.async_chats, day_seconds=sizes.async_day_seconds)
    o = run_async_scale_alone(folder / "async.db", scenario)
    what = (
        f"{scenario.chats:,} async chats x {scenario.questions} questions open 1 day, "
        f"{scenario.days} days each, a day in {scenario.day_seconds:g} s"
    )
    timed = [late for values in o.lateness.values() for late in values]
    rows = [
        Row(
            "2b async",
            f"{what}: questions posted",
            f"{len(o.lateness.get('question', [])):,} / {o.expected_questions:,}",
            "",
            "",
            "all",
            len(o.lateness.get("question", [])) == o.expected_questions,
        ),
        Row(
            "2b async",
            "  question, close, reminder, digest lateness p50 / p99 / max ms",
            str(Latency.of(timed)),
            "",
            "",
            "p99 < 100 ms",
            Latency.of(timed).p99 < 100,
        ),
    ]
    for kind in ("question", "close", "reminder", "digest"):
        values = o.lateness.get(kind, [])
        rows.append(Row("2b async", f"    {kind}s ({len(values):,})", str(Latency.of(values))))
    rows += [
        Row(
            "2b async",
            "  peak memory of its own process (VmHWM) MB",
            f"{o.peak_rss_mb:.0f}",
            "",
            "",
            "< 300 MB",
            o.peak_rss_mb < 300,
        ),
        Row(
            "2b async",
            "  answers recorded; engine ticks; CPU ms per message sent",
            f"{o.answers:,}; {o.ticks:,}; {1000 * o.cpu_seconds / max(o.sent, 1):.1f}",
        ),
    ]
    return rows


def recap_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.recap import fill_run, measure_recap

    db, run_id = asyncio.run(fill_run(folder, sizes.recap))
    outcomes = [asyncio.run(measure_recap(db, run_id)) for _ in range(sizes.recap_repeats)]
    total = median([o.total for o in outcomes])
    base = median([o.baseline_seconds for o in outcomes])
    load = median([o.load_seconds for o in outcomes])
    parts = ", ".join(
        f"{fmt} {median([o.export_seconds[fmt] for o in outcomes]):.2f}"
        for fmt in outcomes[0].export_seconds
    )
    return [
        Row(
            "3 recap",
            f"{sizes.recap:,}-message run: read + recap + every export, s (median of "
            f"{sizes.recap_repeats})",
            f"{total:.2f}",
            f"{base:.2f} (tokenise only)",
            f"{total / base:.1f}",
            "< 2 s, <= 3.0",
            total < 2 and total / base <= 3,
        ),
        Row("3 recap", "  read + build_recap s; exports s", f"{load:.2f}; {parts}"),
    ]


def sending_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.sending import run_sending

    o = asyncio.run(run_sending(sizes.send, sizes.send_rate))
    return [
        Row(
            "4 sending",
            f"{o.messages} posts, one channel, limit scaled to {sizes.send_rate:g}/s: total s",
            f"{o.seconds:.2f}",
            f"{o.minimum:.2f} (minimum)",
            f"{o.seconds / o.minimum:.3f}",
            "<= 1.10",
            o.seconds / o.minimum <= 1.10 and o.delivered == o.messages and o.in_order,
        ),
        Row(
            "4 sending",
            "  429s from the fake Slack (after the first)",
            f"{o.rate_limited} ({o.late_429s})",
            "",
            "",
            "0 after the first",
            o.late_429s == 0,
        ),
    ]


def pg_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.pg import PgBench

    rows: list[Row] = []
    with PgBench() as pg:
        rates, baselines, runs = [], [], []
        for _ in range(sizes.pg_repeats):
            name, outcome = pg.ingest(sizes.pg, producers=sizes.producers // 2)
            runs.append(outcome)
            rates.append(outcome.throughput)
            baselines.append(outcome.stored / pg.baseline(name))
            pg.server.drop_database(name)
        _, paced = pg.ingest(sizes.pg_offered_messages, per_second=sizes.offered)
    rate, base = median(rates), median(baselines)
    typical = sorted(runs, key=lambda r: r.throughput)[len(runs) // 2]
    paced_lat = Latency.of(paced.latencies)
    rows += [
        Row(
            "5 PostgreSQL",
            f"{sizes.pg:,} replies, 2 processes x {sizes.producers // 2} producers: msg/s "
            f"(median of {sizes.pg_repeats})",
            thousands(rate),
            f"{thousands(base)} (COPY)",
            f"{rate / base:.2f}",
            ">= 0.50",
            rate / base >= 0.5 and all(r.stored == sizes.pg for r in runs),
        ),
        Row(
            "5 PostgreSQL",
            "  full speed: event -> commit p50 / p99 / max ms",
            str(Latency.of(typical.latencies)),
        ),
        Row(
            "5 PostgreSQL",
            f"{sizes.pg_offered_messages:,} offered at {sizes.offered:,.0f}/s (1,000/s each):"
            " achieved msg/s",
            thousands(paced.throughput),
            "",
            "",
            "",
            paced.stored == sizes.pg_offered_messages,
        ),
        Row(
            "5 PostgreSQL",
            "  arrival -> commit p50 / p99 / max ms",
            str(paced_lat),
            "",
            "",
            "p99 < 20 ms",
            paced_lat.p99 < 20,
        ),
    ]
    return rows


def plans_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.plans import rows

    return rows(sizes.plan_chats, sizes.plan_repeats, folder)


def rehearsal_rows(sizes: Sizes, folder: Path) -> list[Row]:
    from bench.rehearsal import measure

    took, floor, counts = measure(sizes.rehearsal, sizes.rehearsal_repeats, folder)
    seconds, base = median(took), median(floor)
    rate, base_rate = sizes.rehearsal / seconds, sizes.rehearsal / base
    n = f"{sizes.rehearsal:,}"
    return [
        Row(
            "7 rehearsal",
            f"chathost rehearse --speed max, {n} replies, whole process: replies/s "
            f"(median of {sizes.rehearsal_repeats})",
            thousands(rate),
            f"{thousands(base_rate)} (executemany)",
            f"{rate / base_rate:.3f}",
            ">= 10,000/s",
            rate >= 10_000 and counts["messages"] == sizes.rehearsal,
        ),
        Row(
            "7 rehearsal",
            "  seconds; rows stored (messages, reactions, participants)",
            f"{seconds:.2f}; {counts['messages']:,}, {counts['reactions']:,}, "
            f"{counts['participants']:,}",
        ),
    ]


RUNNERS: dict[str, Callable[[Sizes, Path], list[Row]]] = {
    "ingest": ingest_rows,
    "scale": scale_rows,
    "async": async_rows,
    "recap": recap_rows,
    "sending": sending_rows,
    "pg": pg_rows,
    "plans": plans_rows,
    "rehearsal": rehearsal_rows,
}


def machine() -> str:
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
    total = next((line.split()[1] for line in memory.splitlines() if line.startswith("Mem")), "?")
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {total} memory, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--chats", type=int, help="chats in the scale section (where one process's limit is)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.chats:
        sizes = dataclasses.replace(sizes, chats=args.chats)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in RUNNERS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    logging.basicConfig(level=logging.ERROR)  # retries and warnings would garble the table
    table = Table()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chathost-bench-") as tmp:
        for section in wanted:
            started = time.monotonic()
            print(f"running {section}...", file=sys.stderr, flush=True)
            table.add(*RUNNERS[section](sizes, Path(tmp)))
            print(f"  {section}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print(f"chathost benchmarks: {machine()}")
    print(table.render())
    print(f"total {time.monotonic() - began:.0f} s{' (--quick)' if args.quick else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
