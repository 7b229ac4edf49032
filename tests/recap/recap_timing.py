"""How long a recap of a 10,000-message run takes: the store read, build_recap, every export.

Run:  .venv/bin/python -m tests.recap.recap_timing [MESSAGES]
Prints one line per step. Not a test: timings depend on the machine, so nothing asserts them.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bot.core.recap import build_recap
from bot.core.snapshot import load_run_view, load_stored_run
from bot.core.store import MessageRow, ReactionRow, Store, open_store
from bot.export.formats import FORMATS, render
from bot.export.images import wordcloud_png
from bot.web.app import create_app
from bot.web.config import ArchiveConfig
from tests.recap.helpers import FIRST, plan

WORDS = (  # noqa: SIM905 - a word list reads better as text
    "oolong sencha matcha puer darjeeling assam kettle teapot brew steep leaves water temperature "
    "minutes ceramic glass gaiwan ritual morning evening friends family tasting notes aroma "
    "bitter sweet smoky floral grassy roasted caffeine calm focus journal blog garden share "
    "learn practice habit weekend market shop price quality fresh loose bags cups guests"
).split()
FILLER = "I think the my and a for with really about our it is so".split()  # noqa: SIM905
EMOJI = ("+1", "heart", "tada", "100", "star", "eyes")


def _sentence(rng: random.Random) -> str:
    picked = [rng.choice(WORDS if rng.random() < 0.55 else FILLER) for _ in range(rng.randint(4, 18))]
    if rng.random() < 0.03:
        picked.append(f"https://example.org/tea/{rng.randint(1, 400)}")
    return " ".join(picked)


async def fill(store: Store, messages: int, seed: int = 7) -> int:
    """One summarised run of the tea chat with ``messages`` messages from 400 people."""
    rng = random.Random(seed)
    chat = plan().chats[0]
    await store.upsert_chat(chat)
    run = await store.ensure_run(chat, FIRST, FIRST + timedelta(hours=1))
    await store.update_run(
        run, state="summarised", started_at=FIRST, ended_at=FIRST + timedelta(hours=1)
    )
    people = [f"u{n:03d}" for n in range(400)]
    rows = []
    for n in range(messages):
        user = "kate" if n % 97 == 0 else rng.choice(people)
        at = FIRST + timedelta(seconds=3600 * n / messages)
        question = chat.questions[min(len(chat.questions) - 1, n * len(chat.questions) // messages)]
        rows.append(
            MessageRow(
                run_id=run.id or 0, platform="console", channel_id="teachat",
                platform_message_id=f"m{n}", user_id=user, user_name=user, text=_sentence(rng),
                kind="host" if user == "kate" else "answer", question_id=question.id,
                reason="label", created_at=at, received_at=at,
                edit_count=1 if rng.random() < 0.02 else 0,
            )
        )
    async with store.session() as s:
        s.add_all(rows)
    reactions = []
    for row in rows:
        if rng.random() < 0.25:
            for user in rng.sample(people, rng.randint(1, 8)):
                reactions.append(
                    ReactionRow(message_id=row.id or 0, user_id=user, emoji=rng.choice(EMOJI),
                                created_at=row.created_at)
                )
    async with store.session() as s:
        s.add_all(reactions)
    return run.id or 0


def timed(label: str, step: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = step()
    print(f"{label:<34} {1000 * (time.perf_counter() - start):8.0f} ms")
    return result


async def _atimed(label: str, step: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = await step()
    print(f"{label:<34} {1000 * (time.perf_counter() - start):8.0f} ms")
    return result


async def measure(folder: Path, messages: int) -> str:
    url = f"sqlite+aiosqlite:///{folder / 'big.db'}"
    store = await open_store(url)
    try:
        run_id = await fill(store, messages)
        print(f"{messages} messages in run {run_id} (SQLite, {folder})")
        view = await _atimed("store read (load_run_view)", lambda: load_run_view(store, run_id))
        recap = timed("build_recap", lambda: build_recap(view))
        timed("word cloud PNG", lambda: wordcloud_png(recap.word_weights))
        total = time.perf_counter()
        stored = await _atimed("load_stored_run (read + recap)", lambda: load_stored_run(store, run_id))
        for fmt in FORMATS:
            size = len(timed(f"export {fmt}", lambda fmt=fmt: render(stored, fmt)).content)
            print(f"{'':<34} {size / 1024:8.0f} KiB")
        elapsed = 1000 * (time.perf_counter() - total)
        print(f"{'end to end: read, recap, 4 exports':<34} {elapsed:8.0f} ms")
    finally:
        await store.close()
    return url


def main() -> None:
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        url = asyncio.run(measure(Path(folder), messages))
        with TestClient(create_app(ArchiveConfig(url))) as client:
            timed("archive run page (GET /runs/1)", lambda: client.get("/runs/1"))
            timed("archive run page, again", lambda: client.get("/runs/1"))


if __name__ == "__main__":
    main()
