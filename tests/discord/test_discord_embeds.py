"""Rendering is pure: whatever the recap's size, every message stays inside Discord's limits."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from bot.adapters.discord import embeds
from bot.core.ports import Outgoing
from bot.core.recap import MessageView, QuestionView, Recap, RunView, build_recap
from tests.conftest import T0


def huge_recap(questions: int = 30, answers: int = 12) -> Recap:
    qs = [
        QuestionView(f"Q{i}", f"Question {i}? " + "why " * 80, T0) for i in range(1, questions + 1)
    ]
    messages = [
        MessageView(
            id=q * 100 + a,
            message_id=str(q * 100 + a),
            user_id=f"u{a}",
            user_name=f"person{a} " + "x" * 40,
            text=f"A{q} " + "a long considered answer with a https://example.org/link " * 20,
            created_at=T0 + timedelta(minutes=q),
            question_id=f"Q{q}",
            reason="label",
            reactions={"👍": tuple(f"u{r}" for r in range(a))},
        )
        for q in range(1, questions + 1)
        for a in range(answers)
    ]
    view = RunView(
        run_id=1,
        chat_id="tea",
        title="Tea Chat " * 40,
        tag="#teachat",
        state="summarised",
        scheduled_start=T0,
        started_at=T0,
        ended_at=T0 + timedelta(hours=1),
        questions=qs,
        messages=messages,
    )
    return build_recap(view)


def assert_within_limits(part: embeds.Part) -> None:
    assert part.content is None or len(part.content) <= embeds.CONTENT_LIMIT
    assert len(part.embeds) <= embeds.EMBEDS_PER_MESSAGE
    assert sum(len(e) for e in part.embeds) <= embeds.EMBEDS_TOTAL_LIMIT
    for embed in part.embeds:
        assert len(embed.title or "") <= embeds.TITLE_LIMIT
        assert len(embed.description or "") <= embeds.DESCRIPTION_LIMIT
        assert len(embed.fields) <= embeds.FIELDS_LIMIT
        for item in embed.fields:
            assert len(item.name or "") <= embeds.FIELD_NAME_LIMIT
            assert len(item.value or "") <= embeds.FIELD_VALUE_LIMIT


def test_a_huge_recap_fits_every_limit_and_keeps_every_question() -> None:
    recap = huge_recap()
    rendered = embeds.render(Outgoing("recap", "plain", recap=recap))
    for part in (*rendered.head, *rendered.details):
        assert_within_limits(part)
    (head,) = rendered.head
    assert head.embeds[0].title and head.embeds[0].title.startswith("Recap: Tea Chat")
    detail_titles = [e.title for p in rendered.details for e in p.embeds]
    assert [t.split(":")[0] for t in detail_titles if t and t.startswith("Q")] == [
        f"Q{i}" for i in range(1, 31)
    ]
    assert "Links shared" in detail_titles
    assert len(rendered.details) > 1  # it did need several messages
    assert rendered.details_thread and len(rendered.details_thread) <= embeds.THREAD_NAME_LIMIT


def test_long_announcements_spill_into_more_embeds_and_messages() -> None:
    text = "\n".join(f"Q{i}: " + "what do you think about tea " * 12 for i in range(60))
    rendered = embeds.render(Outgoing("announce", text, chat_title="Tea Chat"))
    for part in rendered.head:
        assert_within_limits(part)
    descriptions = [e.description or "" for p in rendered.head for e in p.embeds]
    assert "\n".join(descriptions).split() == text.split()


@pytest.mark.parametrize(
    ("kind", "content", "embedded"),
    [("intro", "Welcome!", False), ("question", None, True), ("nudge", "<@42> Hi", False)],
)
def test_kinds_and_mentions(kind: str, content: str | None, embedded: bool) -> None:
    mention = "<@42>" if kind == "nudge" else ""
    text = "Hi" if kind == "nudge" else ("Welcome!" if kind == "intro" else "Q2: Why?")
    rendered = embeds.render(Outgoing(kind, text, "Tea Chat", question_id="Q2"), mention)  # type: ignore[arg-type]
    (part,) = rendered.head
    assert part.content == content
    assert bool(part.embeds) is embedded
    if kind == "question":
        footer = part.embeds[0].footer.text or ""
        assert footer.endswith("start your message with A2")


def test_split_text_prefers_line_breaks() -> None:
    assert embeds.split_text("aaa\nbbb ccc", 7) == ["aaa", "bbb ccc"]
    assert embeds.split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]
    assert embeds.clip("abcdef", 4) == "abc…"


def test_pack_respects_ten_embeds_and_six_thousand_characters() -> None:
    small = [discord.Embed(description="x" * 10) for _ in range(25)]
    assert [len(p.embeds) for p in embeds.pack(small)] == [10, 10, 5]
    big = [discord.Embed(description="x" * 4000) for _ in range(3)]
    assert [len(p.embeds) for p in embeds.pack(big)] == [1, 1, 1]
