"""Themes, key phrases and what people said, in every export a reader opens: run.json (the
json export), Markdown and HTML, each parsed back and checked against the recap (issue 16)."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from bot.core.snapshot import StoredRun
from bot.export.formats import render
from tests.recap.eval.chats import all_chats
from tests.support import make_plan


@pytest.fixture(scope="module")
def stored() -> StoredRun:
    chat = next(c for c in all_chats() if c.name == "knowledge_sharing")
    plan = make_plan().chats[0]
    view = chat.view
    return StoredRun(
        plan.model_copy(update={"id": view.chat_id, "title": view.title, "tag": view.tag}),
        view,
        chat.recap(),
    )


def test_run_json_has_themes_phrases_and_each_questions_groups(stored: StoredRun) -> None:
    doc = json.loads(render(stored, "json").content)
    recap = stored.recap
    assert doc["themes"] == list(recap.themes) and doc["themes"][:3]
    assert doc["phrases"] == list(recap.phrases) and "blame culture" in doc["phrases"]
    q1, q2, q3 = doc["questions"]
    assert q3["groups"] == []  # five answers: too few to group
    for question in (q1, q2):
        replies = {r["id"]: r["text"] for r in question["replies"]}
        assert 2 <= len(question["groups"]) <= 4
        for group in question["groups"]:
            assert set(group) == {"label", "size", "quote", "quote_id", "answers"}
            assert group["size"] == len(group["answers"]) and set(group["answers"]) <= set(replies)
            assert replies[group["quote_id"]] == group["quote"]
            assert group["quote_id"] in group["answers"]


def test_markdown_shows_phrases_with_the_themes_and_groups_under_the_highlights(
    stored: StoredRun,
) -> None:
    md = render(stored, "md").content.decode()
    assert "**Themes:** " + ", ".join(stored.recap.themes) in md
    assert "**Key phrases:** " + ", ".join(stored.recap.phrases) in md
    q1 = md[md.index("## Q1") : md.index("## Q2")]
    assert "What people said:" in q1
    for group in stored.recap.questions[0].groups:
        assert re.search(rf"- \*\*{re.escape(group.label)} \({group.size} answers\)\*\*: “", q1)
    assert "What people said" not in md[md.index("## Q3") :]


def test_html_shows_phrases_and_groups_each_with_its_quote(stored: StoredRun) -> None:
    html = render(stored, "html").content.decode()
    chips = re.search(r'<ul class="chips phrases">(.*?)</ul>', html, re.S)
    assert chips is not None
    assert [unescape(p) for p in re.findall(r"<li[^>]*>(.*?)</li>", chips.group(1))] == list(
        stored.recap.phrases
    )
    q2 = html[html.index('id="q-Q2"') : html.index('id="q-Q3"')]
    groups = re.findall(
        r'<li data-group="\d+" data-size="(\d+)">\s*<span class="group-label" dir="auto">(.*?)'
        r'</span>.*?<blockquote dir="auto" data-message="([^"]+)">(.*?)</blockquote>',
        q2,
        re.S,
    )
    expected = stored.recap.questions[1].groups
    assert [(int(n), unescape(label), mid) for n, label, mid, _ in groups] == [
        (g.size, g.label, g.quote.message_id) for g in expected
    ]
    assert [unescape(text) for *_, text in groups] == [g.quote.text for g in expected]
