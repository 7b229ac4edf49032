"""Telegram HTML: what people typed shows as typed, and no message is one Telegram refuses
for its size (counted on the escaped text, as Telegram counts)."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from bot.adapters.telegram import render
from bot.core.events import User
from bot.core.recap import QuestionView, RunView, build_recap


class _Shown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data


def shown(html: str) -> str:
    parser = _Shown()
    parser.feed(html)
    return parser.text


def test_markup_people_type_is_shown_not_obeyed() -> None:
    typed = "A1 <b>bold</b> & <a href='x'>not a link</a>"
    [chunk] = render.message_chunks(typed)
    assert "<b>" not in chunk and "<a" not in chunk
    assert shown(chunk) == typed


def test_a_long_message_is_split_under_the_limit_on_its_escaped_length() -> None:
    typed = "&" * 5000  # 25,000 characters once escaped
    chunks = render.message_chunks(typed)
    assert all(len(c) <= render.MESSAGE_LIMIT for c in chunks)
    assert "".join(shown(c) for c in chunks) == typed
    assert all(not c.endswith("&am") for c in chunks)  # never cut inside an entity


def test_lines_are_kept_whole_where_they_fit() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(100)]
    chunks = render.message_chunks("\n".join(lines))
    assert len(chunks) == 3
    assert [line for c in chunks for line in c.split("\n")] == lines


def test_a_mention_names_the_person_by_id_and_escapes_their_name() -> None:
    link = render.mention(User("4242", "bob", display="Bob <3"))
    assert link == '<a href="tg://user?id=4242">Bob &lt;3</a>'
    assert render.mention(User("kate", "kate")) == "@kate"


def test_a_caption_stays_under_telegrams_photo_limit() -> None:
    caption = render.caption("<" * 2000)
    assert len(caption) <= render.CAPTION_LIMIT and shown(caption) == "<" * (1024 // 4)


def test_a_recap_with_nothing_beyond_its_questions_posts_no_empty_part() -> None:
    start = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    view = RunView(
        1, "tea", "Tea", "", "done", start, start, start,
        questions=[QuestionView("Q1", "Why tea?", start)], messages=[],
    )  # fmt: skip
    parts = render.recap_parts(build_recap(view))
    assert [shown(p) for p in parts.details] == ["Q1: Why tea? (0 answers)"]
