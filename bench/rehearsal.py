"""``chathost rehearse --speed max`` of a big chat, end to end, as a user runs it.

The whole command in its own process: start-up, reading the plan and the replies file,
attribution, storage, the recap, every export and the word cloud. The baseline is the storage
floor: the same rows (messages, reactions, participants) written with plain ``sqlite3``
``executemany`` in one transaction, in the same run.

Run alone: ``.venv/bin/python -m bench.rehearsal [N]`` (default 20,000 replies).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml

from bot.adapters.console.replies import Reply

ROOT = Path(__file__).resolve().parents[1]
CHAT = "tuesday-tea"
WORDS = ["trust", "reflection", "notes", "culture", "blame", "drafts", "fear", "team", "tools"]
TABLES = ("messages", "reactions", "participants")


def replies(n: int, seed: int = 7) -> list[Reply]:
    """A busy chat: 60 people, most answers labelled, a third of them reacted to."""
    rng = random.Random(seed)
    people = [f"user{i}" for i in range(60)]
    out = []
    for _ in range(n):
        at = timedelta(seconds=rng.uniform(300, 3500))
        label = f"A{rng.randint(1, 5)} " if rng.random() < 0.7 else ""
        words = " ".join(rng.choices(WORDS, k=6))
        reactions = {"+1": rng.sample(people, rng.randint(0, 3))} if rng.random() < 0.3 else {}
        out.append(Reply(at=at, user=rng.choice(people), text=label + words, reactions=reactions))
    return sorted(out, key=lambda r: r.at)


def write_replies(path: Path, n: int) -> None:
    items = [r.model_dump(mode="json", exclude_defaults=True) for r in replies(n)]
    path.write_text(yaml.safe_dump(items, sort_keys=False, allow_unicode=True), encoding="utf-8")


def rehearse(replies_file: Path, db: Path, out: Path) -> float:
    """Seconds for one ``chathost rehearse`` from a cold process to its exit."""
    command = [
        sys.executable,
        "-m",
        "bot",
        "rehearse",
        str(ROOT / "chats.yaml"),
        "--chat",
        CHAT,
        "--replies",
        str(replies_file),
        "--speed",
        "max",
        "--out",
        str(out),
        "--db",
        f"sqlite:///{db}",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - started


def stored_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def executemany_baseline(db: Path, folder: Path) -> float:
    """The same rows into an empty copy of the same schema: plain ``executemany``, one
    transaction, the bot's pragmas. Seconds."""
    empty = folder / "baseline.db"
    shutil.copyfile(db, empty)
    with sqlite3.connect(db) as source:
        rows = {t: source.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in TABLES}
    conn = sqlite3.connect(empty)
    try:
        with conn:
            for table in reversed(TABLES):
                conn.execute(f"DELETE FROM {table}")
        conn.execute("VACUUM")
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        with conn:
            for table in TABLES:
                if rows[table]:
                    marks = ", ".join("?" * len(rows[table][0]))
                    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows[table])
        return time.perf_counter() - started
    finally:
        conn.close()


def measure(n: int, repeats: int, folder: Path) -> tuple[list[float], list[float], dict[str, int]]:
    """Rehearsal and baseline seconds per repeat (interleaved, so both see the same machine)
    and what the last rehearsal stored."""
    replies_file = folder / "replies.yaml"
    write_replies(replies_file, n)
    took, floor, counts = [], [], {}
    for i in range(repeats):
        db = folder / f"rehearsal{i}.db"
        took.append(rehearse(replies_file, db, folder / f"out{i}"))
        counts = stored_counts(db)
        floor.append(executemany_baseline(db, folder))
        for path in folder.glob(f"rehearsal{i}.db*"):
            path.unlink()
    return took, floor, counts


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as folder:
        took, floor, counts = measure(n, 1, Path(folder))
    print(
        f"chathost rehearse of {n:,} replies at --speed max: {took[0]:.2f} s "
        f"({n / took[0]:,.0f} replies/s); executemany of the same rows {floor[0]:.3f} s; "
        f"stored {counts}"
    )


if __name__ == "__main__":
    main()
