"""At full speed the rehearsal sends the replies due before the engine's next wake-up as one
wave through ChatService (the recorder stores them in a few group commits). A wave must store
exactly what sending them one at a time stores: the same questions, replies to replies, thread
answers, reactions, edits, deletes and commands in between."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.adapters.console.rehearsal import Rehearsal
from bot.adapters.console.replies import load_replies
from bot.core.plan import load_plan
from bot.core.store import open_store
from bot.platforms import load_platforms

ROOT = Path(__file__).resolve().parents[2]
# Finite but huge: the rehearsal then sends each reply when it falls due, one at a time, while
# the real sleeps between them stay microseconds.
ONE_AT_A_TIME = 1e9


async def rehearse(tmp_path: Path, speed: float) -> tuple[dict, str, int]:
    plan = load_plan(ROOT / "chats.yaml", load_platforms().names)
    replies = load_replies(ROOT / "examples" / "replies.yaml")
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / f'{speed}.db'}")
    try:
        rehearsal = Rehearsal(plan, "tuesday-tea", replies, store, speed=speed, out=io.StringIO())
        result = await rehearsal.run()
        return result.document, result.markdown, rehearsal.service.recorder.batches
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_wave_stores_what_one_at_a_time_stores(tmp_path: Path) -> None:
    waves, waves_md, wave_batches = await rehearse(tmp_path, float("inf"))
    single, single_md, single_batches = await rehearse(tmp_path, ONE_AT_A_TIME)
    for doc in (waves, single):
        del doc["run"]  # its id and timestamps of writing differ; what was said must not
        for reply in (r for q in doc["questions"] for r in q["replies"]):
            if reply["thread"]:  # the console's post ids are unique per rehearsal: c<id>-<n>
                reply["thread"] = reply["thread"].rsplit("-", 1)[1]
    assert waves == single
    assert waves_md == single_md
    assert waves["stats"]["messages"] == 33  # the sample chat, as test_rehearsal counts it
    assert wave_batches < single_batches  # the waves really went together
