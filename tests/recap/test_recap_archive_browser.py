"""The archive in a real browser: Playwright driving Debian's Chromium against uvicorn.

Playwright cannot download its browsers here, so it drives /usr/bin/chromium (the Debian
``chromium`` package). Under CI (CI=true) a missing Chromium fails the run; locally the
tests skip.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.web.app import create_app
from bot.web.config import ArchiveConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
TOKEN = "kettle-on-9921"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def base_url(archive_db: str) -> Iterator[str]:
    """The archive served by uvicorn on a free port of 127.0.0.1, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(ArchiveConfig(archive_db, token=TOKEN))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the archive did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A logged-in tab: the token once in the URL, a cookie from then on."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.goto(f"{base_url}/?token={TOKEN}")
    yield tab
    context.close()


def test_list_then_run_page_shows_figures_and_questions(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    assert page.url == f"{base_url}/"  # the token left the address bar
    expect(page.locator("h1")).to_have_text("Chats")
    chat = page.locator("section.chat[data-chat='tea']")
    expect(chat.locator("h2")).to_contain_text("Tea Chat")
    expect(chat.locator("li[data-run]")).to_have_count(2)
    chat.locator("li[data-run='1'] a").click()
    page.wait_for_url(f"{base_url}/runs/1")

    figures = {
        name: page.locator(f"[data-figure='{name}'] .value").inner_text()
        for name in ("participants", "messages", "answers", "reactions", "duration")
    }
    assert figures == {
        "participants": "5", "messages": "14", "answers": "11", "reactions": "12", "duration": "60",
    }
    sections = page.locator("section.question")
    expect(sections).to_have_count(3)
    assert sections.locator("h2").all_inner_texts() == [
        "Q1What brought you here?",
        "Q2What is hard about it?",
        "Q3What will you try next?",
    ]
    q1 = page.locator("section#q-Q1")
    expect(q1.locator(".meta")).to_contain_text("5 answers")
    # answers in the order they were posted, the host's message set apart among them
    expect(q1.locator("li.message .who")).to_have_text(["alice", "bob", "carol", "dan", "kate", "erin"])
    expect(q1.locator("li.message.host .badge")).to_have_text("host")
    expect(q1.locator(".highlights li.pick")).to_have_count(2)  # kate's star and /highlight
    # a message's HTML is shown as text, not run
    expect(q1.locator("li.message .text").nth(2)).to_contain_text("<b>bold</b> claims")
    assert page.locator("b", has_text="bold").count() == 0
    cloud = page.locator("img.cloud")
    expect(cloud).to_be_visible()
    assert cloud.evaluate("img => img.complete && img.naturalWidth") > 300
    expect(page.locator("table.people tr[data-user]")).to_have_count(5)

    shot = tmp_path / "run-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


def test_download_an_export(page: Page, base_url: str, tmp_path: Path) -> None:
    page.goto(f"{base_url}/runs/1")
    with page.expect_download() as waiting:
        page.locator("a[data-format='csv']").click()
    download = waiting.value
    assert download.suggested_filename == "tea-2026-12-01-run1.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 14
    erin = next(r for r in rows if r["user"] == "erin" and r["question"] == "Q1")
    assert (erin["text"], erin["edited"]) == ("A1 oolong curiosity and tasting notes", "yes")

    with page.expect_download() as waiting:
        page.locator("a[data-format='md']").click()
    markdown = Path(waiting.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Tea Chat #teachat")


def test_chat_page_shows_trends(page: Page, base_url: str, tmp_path: Path) -> None:
    page.goto(f"{base_url}/chats/tea")
    chart = page.locator("img.chart")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") == 900
    rows = page.locator("table.trend-table tbody tr")
    assert [r.split("\t")[1:] for r in rows.all_inner_texts()] == [
        ["3", "1", "2", "3"],  # second run: gina new, alice and bob back
        ["5", "5", "0", "14"],
    ]
    page.screenshot(path=str(tmp_path / "chat-page.png"), full_page=True)


def test_without_the_token_the_archive_stays_shut(browser: Browser, base_url: str) -> None:
    context = browser.new_context()
    try:
        tab = context.new_page()
        for path in ("/", "/runs/1", "/runs/1/export.json"):
            answer = tab.goto(f"{base_url}{path}")
            assert answer is not None and answer.status == 401, path
        expect(tab.locator("h1")).to_have_text("This chat archive is private")
        wrong = tab.goto(f"{base_url}/runs/1?token=wrong")
        assert wrong is not None and wrong.status == 401
        health = tab.goto(f"{base_url}/healthz")
        assert health is not None and health.status == 200
        assert health.json() == {"status": "ok"}
    finally:
        context.close()
