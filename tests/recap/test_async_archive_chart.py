"""The archive's run page of an async chat shows its answers per day as a chart; a live
chat's page has none."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.cli import main
from bot.core.snapshot import load_stored_run
from bot.core.store import open_store
from bot.web.app import create_app
from bot.web.charts import answers_per_day
from bot.web.config import ArchiveConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def slow_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("slow")
    with redirect_stdout(io.StringIO()):
        code = main(
            [
                "rehearse",
                str(ROOT / "examples" / "async-chat.yaml"),
                "--chat",
                "slow-learning",
                "--replies",
                str(ROOT / "examples" / "async-replies.yaml"),
                "--speed",
                "max",
                "--out",
                str(out),
            ]
        )
    assert code == 0
    return f"sqlite+aiosqlite:///{out / 'rehearsal.db'}"


async def test_answers_are_counted_per_local_day_quiet_days_included(slow_db: str) -> None:
    store = await open_store(slow_db)
    try:
        stored = await load_stored_run(store, 1)
    finally:
        await store.close()
    days = answers_per_day(stored.recap, stored.chat.zone)
    assert days == [
        (date(2026, 12, 7), 3),
        (date(2026, 12, 8), 3),
        (date(2026, 12, 9), 2),
        (date(2026, 12, 10), 1),
        (date(2026, 12, 11), 1),
        (date(2026, 12, 12), 0),
    ]


def test_the_run_page_shows_the_chart(slow_db: str) -> None:
    with TestClient(create_app(ArchiveConfig(slow_db))) as client:
        page = client.get("/runs/1")
        assert page.status_code == 200 and 'src="/runs/1/answers.png"' in page.text
        chart = client.get("/runs/1/answers.png")
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
