"""The archive's run page shows what people said: the key phrases beside the themes and each
question's groups under its highlights, for a run rehearsed into a real database and read
over HTTP (issue 16)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.core.snapshot import load_stored_run
from bot.core.store import open_store
from bot.web.app import create_app
from bot.web.config import ArchiveConfig
from tests.recap.helpers import FIRST, rehearse

# Q1 "What brought you here?": the curious, and those someone sent.
SAID = [
    ("alice", "A1 curiosity about oolong tasting"),
    ("bob", "A1 my manager sent me"),
    ("carol", "A1 oolong tasting, pure curiosity"),
    ("dan", "A1 my manager asked me to come"),
    ("erin", "A1 curiosity, and tasting notes of oolong"),
    ("fay", "A1 the manager insisted"),
]


async def _build(path: Path) -> tuple[str, list[tuple[str, str, str]], tuple[str, ...]]:
    url = f"sqlite+aiosqlite:///{path}"
    store = await open_store(url)
    try:
        entries = [
            {"at": f"{6 + n:02d}:00", "user": user, "text": text}
            for n, (user, text) in enumerate(SAID)
        ]
        run = await rehearse(store, entries, FIRST)
        recap = (await load_stored_run(store, run.run_id)).recap
    finally:
        await store.close()
    groups = [(g.label, str(g.size), g.quote.text) for g in recap.questions[0].groups]
    return url, groups, recap.phrases


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list, tuple[str, ...]]:
    folder = tmp_path_factory.mktemp("said")
    with ThreadPoolExecutor(max_workers=1) as pool:  # as conftest's archive_db: its own loop
        return pool.submit(asyncio.run, _build(folder / "said.db")).result()


@pytest.fixture(scope="module")
def page(built: tuple[str, list, tuple[str, ...]]) -> Iterator[str]:
    with TestClient(create_app(ArchiveConfig(built[0]))) as client:
        answer = client.get("/runs/1")
        assert answer.status_code == 200
        yield answer.text


def test_the_run_page_shows_each_group_with_its_size_and_quote(
    built: tuple[str, list, tuple[str, ...]], page: str
) -> None:
    _, groups, _ = built
    assert sorted(label for label, *_ in groups) == ["manager", "oolong"]
    q1 = page[page.index('id="q-Q1"') :]
    assert "What people said" in q1
    shown = re.findall(
        r'data-size="(\d+)">\s*<span class="group-label" dir="auto">(.*?)</span>'
        r'.*?<blockquote dir="auto" data-message="[^"]+">(.*?)</blockquote>',
        q1,
        re.S,
    )
    assert [(unescape(label), size, unescape(quote)) for size, label, quote in shown] == groups


def test_the_run_page_shows_the_key_phrases_with_the_themes(
    built: tuple[str, list, tuple[str, ...]], page: str
) -> None:
    _, _, phrases = built
    assert "oolong tasting" in phrases
    themes = page[page.index('id="themes"') : page.index('id="q-Q1"')]
    assert "Key phrases" in themes
    assert all(f">{phrase}</li>" in themes for phrase in phrases)
