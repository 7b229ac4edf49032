"""The archive's calendar feeds over HTTP, as a calendar program subscribes to them, and
``chathost calendar`` as a host runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from starlette.testclient import TestClient

from bot.core.store import open_store
from bot.web.app import create_app
from bot.web.auth import feed_token
from bot.web.config import ArchiveConfig
from tests.calendars.plans import PLAN

TOKEN = "tea-leaves-4517"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path / 'archive.db'}"

    async def create() -> None:
        await (await open_store(url)).close()

    asyncio.run(create())
    (tmp_path / "chats.yaml").write_text(PLAN, encoding="utf-8")
    return tmp_path


def client(folder: Path, **config: str) -> TestClient:
    url = f"sqlite+aiosqlite:///{folder / 'archive.db'}"
    app = create_app(ArchiveConfig(url, chats_file=str(folder / "chats.yaml"), **config))
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def public(folder: Path) -> Iterator[TestClient]:
    with client(folder, public_url="https://chats.example.org") as test_client:
        yield test_client


@pytest.fixture
def private(folder: Path) -> Iterator[TestClient]:
    with client(folder, token=TOKEN) as test_client:
        yield test_client


def uids(answer_body: bytes) -> list[str]:
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(answer_body).walk("VEVENT")]


def test_every_chat_and_one_chat(public: TestClient) -> None:
    every = public.get("/calendar.ics")
    assert every.status_code == 200
    assert every.headers["content-type"].startswith("text/calendar")
    assert [u.split("-")[0] for u in uids(every.content)] == ["last", "weekly", "one"]
    one = public.get("/chats/weekly/calendar.ics")
    assert one.status_code == 200 and len(uids(one.content)) == 1
    event = icalendar.Calendar.from_ical(one.content).walk("VEVENT")[0]
    assert str(event["URL"]) == "https://chats.example.org/chats/weekly"
    assert public.get("/chats/nope/calendar.ics").status_code == 404


def test_pages_link_to_the_feeds(public: TestClient) -> None:
    index = public.get("/").text
    assert 'href="webcal://chats.example.org/calendar.ics"' in index
    assert 'href="/calendar.ics"' in index


def test_a_private_archive_lets_a_subscription_in_with_its_token(private: TestClient) -> None:
    assert private.get("/calendar.ics").status_code == 401
    for token in (TOKEN, feed_token(TOKEN)):
        answer = private.get(f"/calendar.ics?token={token}")
        assert answer.status_code == 200, token  # no redirect: calendar programs keep no cookie
        assert uids(answer.content)
    assert private.get("/calendar.ics?token=wrong").status_code == 401
    # The feed's token opens the feeds only, not the archive's pages.
    assert private.get(f"/?token={feed_token(TOKEN)}").status_code == 401
    # The pages show the subscription links with the feed's token, never the archive's.
    page = private.get(f"/?token={TOKEN}")
    assert page.status_code == 303
    index = private.get("/").text
    assert f"/calendar.ics?token={feed_token(TOKEN)}" in index and TOKEN not in index


def test_a_changed_plan_shows_and_a_broken_one_says_why(public: TestClient, folder: Path) -> None:
    plan = folder / "chats.yaml"
    plan.write_text(PLAN.replace('title: "Dev Thursday"', 'title: "Dev Friday"'), "utf-8")
    os.utime(plan, (1, 1))  # a new mtime even within the file system's resolution
    assert b"SUMMARY:Dev Friday" in public.get("/calendar.ics").content
    plan.write_text("chats: [{id: 1}]\n", "utf-8")
    answer = public.get("/calendar.ics")
    assert answer.status_code == 503 and "has errors" in answer.text
    plan.unlink()
    assert public.get("/calendar.ics").status_code == 503


def chathost(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PUBLIC_URL": "https://chats.example.org"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_command_writes_the_file_and_refuses_an_unknown_chat(folder: Path) -> None:
    out = folder / "feeds" / "learning.ics"
    done = chathost(
        "calendar", "chats.yaml", "--chat", "last-monday", "--out", str(out), cwd=folder
    )
    assert done.returncode == 0, done.stderr
    assert f"Wrote {out} (1 chat," in done.stderr
    event = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
    assert str(event["URL"]) == "https://chats.example.org/chats/last-monday"
    wrong = chathost("calendar", "chats.yaml", "--chat", "nope", cwd=folder)
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert wrong.stderr.strip().splitlines() == [
        "no chat 'nope' in the plan (chats: last-monday, weekly, one-off)"
    ]
