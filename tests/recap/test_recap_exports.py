"""Every export format parsed back and checked against the stored run."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.snapshot import load_stored_run
from bot.core.store import Store
from bot.export.formats import FORMATS, render
from tests.recap.helpers import HTML_ANSWER, RTL_ANSWER

EDITED = "A1 oolong curiosity and tasting notes"
DELETED = "A1 oops wrong chat"


async def exports(store: Store, run_id: int) -> dict[str, str]:
    stored = await load_stored_run(store, run_id)
    return {fmt: render(stored, fmt).content.decode("utf-8-sig") for fmt in FORMATS}


class Page(HTMLParser):
    """What a reader of the HTML export sees: sections, messages, images, scripts, text."""

    def __init__(self) -> None:
        super().__init__()
        self.questions: list[str] = []
        self.messages: dict[str, str] = {}
        self.images: list[str] = []
        self.scripts = 0
        self.external: list[str] = []
        self.figures: dict[str, str] = {}
        self.users: list[str] = []
        self._message: str | None = None
        self._in_text = False
        self._figure: str | None = None
        self._in_value = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "script":
            self.scripts += 1
        if tag == "section" and a.get("data-question"):
            self.questions.append(a["data-question"] or "")
        if tag == "li" and "message" in classes:
            self._message = a.get("data-message")
        if tag == "span" and "text" in classes and self._message:
            self._in_text = True
            self.messages[self._message] = ""
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag in ("link", "script", "img", "iframe") and (a.get("src") or a.get("href") or "")[
            :4
        ] == "http":
            self.external.append(tag)
        if tag == "div" and a.get("data-figure"):
            self._figure = a["data-figure"]
        if tag == "span" and "value" in classes and self._figure:
            self._in_value = True
        if tag == "tr" and a.get("data-user"):
            self.users.append(a["data-user"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_text = self._in_value = False
        if tag == "li":
            self._message = None
        if tag == "div":
            self._figure = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_text and self._message:
            self.messages[self._message] += data
        if self._in_value and self._figure:
            self.figures[self._figure] = data.strip()


def parse_html(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


async def test_json_is_the_run_document_and_matches_the_store(store: Store, tea: int) -> None:
    doc = json.loads((await exports(store, tea))["json"])
    rows = await store.run_messages(tea)
    assert doc["run"]["id"] == tea and doc["chat"]["id"] == "tea"
    replies = [r for q in doc["questions"] for r in q["replies"] + q["host_messages"]]
    stored_texts = sorted(m.text for m in rows)
    assert sorted([r["text"] for r in replies] + [m["text"] for m in doc["unattributed"]]) == (
        stored_texts
    )
    assert doc["stats"]["messages"] == len(rows) == 14
    erin = next(r for r in replies if r["user"] == "erin" and r["question"] == "Q1")
    assert (erin["text"], erin["edited"]) == (EDITED, True)
    assert DELETED not in json.dumps(doc)
    q1 = doc["questions"][0]
    assert q1["host_picks"] == [q1["highlights"][0]]
    assert {r["text"] for r in q1["replies"]} >= {HTML_ANSWER, RTL_ANSWER}


async def test_csv_has_one_row_per_stored_message(store: Store, tea: int) -> None:
    rows = list(csv.DictReader(io.StringIO((await exports(store, tea))["csv"])))
    stored = await store.run_messages(tea)
    assert [r["message_id"] for r in rows] == [m.platform_message_id for m in stored]
    assert list(rows[0])[:7] == ["time", "user", "question", "text", "reactions", "edited", "thread"]
    for row, message in zip(rows, stored, strict=True):
        assert row["text"] == message.text and row["user"] == message.user_name
        assert row["question"] == (message.question_id or "")
        assert row["time"] == message.created_at.isoformat()
    erin = next(r for r in rows if r["user"] == "erin" and r["question"] == "Q1")
    assert (erin["text"], erin["edited"]) == (EDITED, "yes")
    carol = next(r for r in rows if r["text"] == HTML_ANSWER)
    assert carol["reactions"] == "'+1=4"  # a cell starting with + would run as a formula
    assert DELETED not in {r["text"] for r in rows}
    assert {r["kind"] for r in rows if r["user"] == "kate"} == {"host"}


async def test_no_csv_cell_starts_like_a_formula(store: Store, tea: int) -> None:
    """Reactions and ids pass the same guard as text: ``-1=1``, an emoji named ``=cmd()``."""
    [first, second, *_] = await store.run_messages(tea)
    await store.add_reaction(first.id or 0, "u9", "zed", "-1", first.created_at)
    await store.add_reaction(second.id or 0, "u9", "zed", "=cmd()", second.created_at)
    rows = list(csv.reader(io.StringIO((await exports(store, tea))["csv"])))[1:]
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert any(c.startswith("'=cmd()=1") or "=cmd()=1" in c for c in cells)


async def test_markdown_headings_follow_the_questions(store: Store, tea: int) -> None:
    text = (await exports(store, tea))["md"]
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Tea Chat #teachat",
        "## Q1: What brought you here?",
        "## Q2: What is hard about it?",
        "## Q3: What will you try next?",
        "## Links shared",
        "## Thank you",
    ]
    assert f"**erin**: {EDITED} (edited)" in text
    assert DELETED not in text
    assert "<script>" not in text and r"\<script\>" in text  # shown, never run
    assert "★ host pick" in text


async def test_html_is_one_self_contained_file(store: Store, tea: int) -> None:
    html = (await exports(store, tea))["html"]
    page = parse_html(html)
    stored = await store.run_messages(tea)
    assert page.questions == ["Q1", "Q2", "Q3"]
    assert page.scripts == 0 and page.external == []
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    assert page.figures["participants"] == "5" and page.figures["messages"] == "14"
    # every stored message once (highlights quote them again, outside the message lists)
    assert sorted(page.messages.values()) == sorted(m.text for m in stored)
    assert page.messages[next(m.platform_message_id for m in stored if m.user_id == "erin")] == (
        EDITED
    )
    assert "<script>alert(1)</script>" not in html  # the user's HTML is text
    assert RTL_ANSWER in page.messages.values()
    assert DELETED not in "".join(page.text)
    assert sorted(page.users) == ["alice", "bob", "carol", "dan", "erin"]


async def test_forgotten_users_are_absent_from_every_export(store: Store, tea: int) -> None:
    assert (await store.forget_user("console", "erin")).messages == 2
    out = await exports(store, tea)
    doc = json.loads(out["json"])
    people = {p["user_id"] for p in doc["participants"]}
    authors = {r["user_id"] for q in doc["questions"] for r in q["replies"]}
    reactors = {
        u for q in doc["questions"] for r in q["replies"] for us in r["reactions"].values() for u in us
    }
    assert "erin" not in people | authors | reactors
    assert "erin" not in {r["user"] for r in csv.DictReader(io.StringIO(out["csv"]))}
    assert "**erin**" not in out["md"] and "erin" not in out["md"]
    page = parse_html(out["html"])
    assert "erin" not in page.users and EDITED not in page.messages.values()
    assert not re.search(r"\berin\b", "".join(page.text))


def test_export_command_writes_each_format(archive_db: str, tmp_path: Path) -> None:
    for fmt in FORMATS:
        out = tmp_path / f"latest.{fmt}"
        assert main(["export", "latest", "--format", fmt, "--db", archive_db, "--out", str(out)]) == 0
        assert out.stat().st_size > 200
    doc = json.loads((tmp_path / "latest.json").read_text())
    assert doc["run"]["started_at"].startswith("2026-12-08")  # latest: the second run
    assert (tmp_path / "latest.html").read_text().startswith("<!doctype html>")


def test_export_command_to_stdout_and_bad_runs(
    archive_db: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["export", "1", "--format", "md", "--db", archive_db]) == 0
    assert capsysbinary.readouterr().out.decode().startswith("# Tea Chat #teachat")
    assert main(["export", "999", "--db", archive_db]) == 1
    assert b"no run 999" in capsysbinary.readouterr().err
