"""How long a rehearsal of N messages takes at --speed max (the core's whole path, SQLite).

Run: .venv/bin/python -m bench.rehearsal [N]
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.adapters.console.rehearsal import rehearse_to
from bot.adapters.console.replies import Reply
from bot.core.plan import load_plan

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["trust", "reflection", "notes", "culture", "blame", "drafts", "fear", "team", "tools"]


def replies(n: int, seed: int = 7) -> list[Reply]:
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


async def measure(n: int) -> float:
    plan = load_plan(ROOT / "chats.yaml")
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite+aiosqlite:///{folder}/bench.db"
        items = replies(n)
        path = Path(folder) / "replies.yaml"
        import yaml

        path.write_text(yaml.safe_dump([r.model_dump(mode="json") for r in items]))
        started = time.perf_counter()
        await rehearse_to(plan, "tuesday-tea", str(path), db, float("inf"), None, out=io.StringIO())
        return time.perf_counter() - started


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seconds = asyncio.run(measure(n))
    print(f"rehearsal of {n} messages at --speed max: {seconds:.2f} s ({n / seconds:.0f} msg/s)")


if __name__ == "__main__":
    main()
