"""Real processes, real clock, fake platform (tests/durability/worker.py writes each post as a
JSON line): SIGTERM finishes the post in flight and exits cleanly; SIGKILL loses no reply and a
restart resumes; several workers on one PostgreSQL post every step exactly once and take over
from a dead one within the lease."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.core.events import ChannelRef, IncomingMessage, User
from bot.core.recorder import MessageRecorder
from bot.core.store import Store, open_store
from tests.durability.procs import (
    Workers,
    plan_yaml,
    posts,
    read_lines,
    start_in,
    wait_until,
)

STEP_KEYS = ["intro", "question:Q1", "question:Q2", "question:Q3", "outro", "recap"]


async def reply(store: Store, user: str, text: str) -> None:
    """A participant's reply arriving now, recorded by whichever process got the event (here:
    the test itself, through the same recorder the adapters' ChatService uses)."""
    event = IncomingMessage(
        "console",
        ChannelRef("proc", "proc"),
        f"{user}-{time.time_ns()}",
        User(user, user),
        text,
        datetime.now(UTC),
    )
    assert await MessageRecorder(store).submit(event) is not None, text


def keys(out: Path) -> Counter[str]:
    return Counter(p["key"] for p in posts(out) if p["kind"] != "nudge")


def posted(out: Path, key: str) -> dict | None:
    return next((p for p in posts(out) if p["key"] == key), None)


async def test_sigterm_finishes_the_post_in_flight_and_sigkill_loses_nothing(
    tmp_path: Path, workers_factory
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    out = tmp_path / "posts.jsonl"
    start = start_in(3)
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_yaml(start, [("Q1", 1), ("Q2", 5), ("Q3", 8)], 11))
    group: Workers = workers_factory(["--db", db, "--plan", str(plan), "--out", str(out)])
    store = await open_store(db)
    try:
        first = group.start("w1", "--slow-post", "2")
        await wait_until(
            lambda: any(
                r.get("key") == "question:Q1" and r["event"] == "begin" for r in read_lines(out)
            ),
            15,
            "w1 to begin posting Q1",
        )
        first.signal(signal.SIGTERM)  # mid-post, as a platform stopping the worker would
        stopped_at = time.monotonic()
        assert await asyncio.to_thread(first.wait, 10) == 0, first.output()
        took = time.monotonic() - stopped_at
        assert took < 10
        assert posted(out, "question:Q1") is not None  # the post in flight was finished...
        [q1] = [p for p in await store.posts(1) if p.key == "question:Q1"]
        assert q1.posted_at is not None  # ...and recorded, so nobody posts it again
        assert [r["event"] for r in read_lines(out)][-2:] == ["stopping", "exited"]

        await reply(store, "alice", "A1 while no worker runs")
        second = group.start("w2")
        await wait_until(lambda: posted(out, "question:Q2"), 15, "Q2 after the restart")
        second.signal(signal.SIGKILL)
        assert await asyncio.to_thread(second.wait, 10) == -signal.SIGKILL
        await reply(store, "bob", "A2 after the SIGKILL")

        group.start("w3")
        await wait_until(lambda: posted(out, "recap"), 20, "the recap")
        assert keys(out) == Counter(STEP_KEYS)  # every step once: nothing lost, nothing twice
        by = {p["key"]: p["worker"] for p in posts(out)}
        assert (by["question:Q1"], by["question:Q2"], by["question:Q3"]) == ("w1", "w2", "w3")
        texts = [m.text for m in await store.run_messages(1)]
        assert texts == ["A1 while no worker runs", "A2 after the SIGKILL"]
        recap = posted(out, "recap")
        assert recap is not None and "2 messages" in recap["text"]  # both replies counted
        print(f"\nSIGTERM to exit: {took:.2f}s")
    finally:
        await store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_workers_sharing_postgresql_post_once_and_take_over_from_the_dead(
    tmp_path: Path, postgres_url: str, workers_factory
) -> None:
    out = tmp_path / "posts.jsonl"
    start = start_in(5)
    due = {"Q1": 2, "Q2": 6, "Q3": 10, "Q4": 18, "Q5": 24}
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        plan_yaml(
            start,
            list(due.items()),
            30,
            announce="[3s]",
            nudges="{after: 3s, max_per_person: 1, via: dm}",
        )
    )
    lease = 4.0
    common = ["--db", postgres_url, "--plan", str(plan), "--out", str(out), "--lease", str(lease)]
    group: Workers = workers_factory(common)
    dying = [
        *("--die-on", "question:Q3"),  # dies after claiming Q3, before posting it
        *("--die-after", "question:Q4"),  # dies after posting Q4, before recording it
        *("--die-marker", str(tmp_path / "died")),
    ]
    store = await open_store(postgres_url)
    began = time.monotonic()
    try:
        workers = {name: group.start(name, *dying) for name in ("a", "b")}
        await wait_until(lambda: posted(out, "question:Q1"), 20, "Q1")
        await reply(store, "alice", "A1 from alice")
        await reply(store, "bob", "A1 from bob")

        # Whoever claims Q3 first dies right after the claim, before posting it.
        dead = await wait_until(
            lambda: next((w for w in workers.values() if not w.alive()), None),
            25,
            "the worker that claimed Q3 to die",
        )
        assert dead.process.returncode == -signal.SIGKILL
        died_at = datetime.now(UTC)
        await reply(store, "carol", "A2 while a worker is dead")
        health = free_port()
        workers["c"] = group.start("c", *dying[2:], "--health-port", str(health))  # a restart

        q3 = await wait_until(lambda: posted(out, "question:Q3"), 30, "Q3 taken over")
        q3_due = start.timestamp() + due["Q3"]
        takeover = q3["at"] - q3_due
        assert takeover < 30, f"Q3 came {takeover:.1f}s late"

        url = f"http://127.0.0.1:{health}/healthz"  # an orchestrator's probe of the restart
        page = await asyncio.to_thread(urllib.request.urlopen, url, timeout=5)
        with page:
            assert page.status == 200 and json.load(page)["status"] == "ok"

        q4 = await wait_until(lambda: posted(out, "question:Q4"), 25, "Q4")
        q4_poster = workers[q4["worker"]]  # dies with Q4 posted but not recorded
        assert await asyncio.to_thread(q4_poster.wait, 10) == -signal.SIGKILL
        await reply(store, "dan", "A4 right after a kill")

        await wait_until(lambda: posted(out, "recap"), 30, "the recap")
        for worker in workers.values():
            worker.signal(signal.SIGTERM)
        for worker in workers.values():
            code = await asyncio.to_thread(worker.wait, 10)
            assert code in (0, -signal.SIGKILL), worker.output()

        # The survivor that took Q4 over found it on the platform instead of posting it again.
        [q4_row] = [p for p in await store.posts(1) if p.key == "question:Q4"]
        assert q4_row.message_id == q4["message_id"]
        steps = keys(out)
        assert steps == Counter(
            ["announce", "intro", *(f"question:{q}" for q in due), "outro", "recap"]
        ), steps
        order = [p["question_id"] for p in posts(out) if p["kind"] == "question"]
        assert order == list(due)
        # Nudges: each one the database recorded was delivered exactly once.
        nudge_lines = Counter(p["key"] for p in posts(out) if p["kind"] == "nudge")
        run = (await store.all_runs())[0]
        rows = await store.nudges(run.id or 0)
        assert all(n.delivered_at is not None for n in rows)
        assert nudge_lines == Counter(f"nudge:{n.user_id}" for n in rows)
        assert all(count == 1 for count in nudge_lines.values())
        # No reply lost, whoever was alive or dead when it came.
        assert sorted(m.text for m in await store.run_messages(run.id or 0)) == sorted(
            ["A1 from alice", "A1 from bob", "A2 while a worker is dead", "A4 right after a kill"]
        )
        assert run.state == "summarised"
        recap = posted(out, "recap")
        assert recap is not None and "4 messages" in recap["text"]
        # Every question went out on time except the one whose claimer died (within a tick).
        late = {
            q: p["at"] - start.timestamp() - due[q]
            for q in due
            if (p := posted(out, f"question:{q}"))
        }
        assert all(delay < 5 for q, delay in late.items() if q != "Q3"), late
        print(
            f"\nQ3 taken over {takeover:.1f}s after it was due (lease {lease:.0f}s, "
            f"death at {died_at:%H:%M:%S}); whole scenario {time.monotonic() - began:.1f}s"
        )
    finally:
        await store.close()
