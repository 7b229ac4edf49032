"""The recap of a rehearsed chat: the real engine, service and store, then build_recap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar

from bot.core.recap import MessageView, recap_text, thanks_text
from bot.core.snapshot import RunNotFound, find_run_id, load_stored_run
from bot.core.store import MessageRow, Store
from tests.recap.helpers import HTML_ANSWER, RTL_ANSWER, SECOND, SECOND_RUN, rehearse

M = TypeVar("M", MessageRow, MessageView)


def by_text(messages: Iterable[M], start: str) -> M:
    return next(m for m in messages if m.text.startswith(start))


async def test_headline_figures_count_what_was_said(store: Store, tea: int) -> None:
    recap = (await load_stored_run(store, tea)).recap
    s = recap.stats
    # 15 entries, frank's only message deleted -> 14 stored; kate spoke twice as host.
    assert (s.messages, s.host_messages) == (14, 2)
    assert s.participants == 5  # alice bob carol dan erin; frank's message is gone, so is he
    assert s.answers_per_question == {"Q1": 5, "Q2": 3, "Q3": 3}
    assert s.answers == 11
    assert s.reactions == 12
    assert (s.first_timers, s.returning) == (5, 0)
    assert s.duration_minutes == 60
    assert s.reach is None  # unknown until the runs table records channel members
    assert [m.text for m in recap.unattributed] == [
        "Welcome all, the kettle is on",
        "Hi from Leeds 👋",
    ]
    assert recap.hosts == ("kate",)


async def test_highlights_put_host_picks_first_then_most_reacted(store: Store, tea: int) -> None:
    q1, q2, q3 = (await load_stored_run(store, tea)).recap.questions
    # dan's answer has one reaction, but it is kate's star: a host pick leads.
    assert [(m.user_name, m.reaction_count) for m in q1.highlights] == [
        ("dan", 1),
        ("carol", 4),
        ("alice", 3),
    ]
    assert q1.host_picks == (q1.highlights[0].message_id,)
    assert [m.user_name for m in q2.highlights] == ["bob", "alice"]  # carol had no reactions
    assert q3.highlights == ()
    assert [m.user_name for m in q1.host_messages] == ["kate"]
    assert [m.kind for m in q1.timeline].count("host") == 1


async def test_highlight_command_marks_a_host_pick_without_counting_as_reaction(
    store: Store, tea: int
) -> None:
    bob = by_text(await store.run_messages(tea), "A1 my friend")
    await store.add_pick(bob.id or 0, "kate", "kate", datetime.now(UTC))
    recap = (await load_stored_run(store, tea)).recap
    q1 = recap.questions[0]
    picked = by_text(q1.answers, "A1 my friend")
    assert picked.highlighted and picked.reaction_count == 1
    assert "chathost:highlight" not in picked.reactions  # what release 0003 stored it as
    # Both picks first (tied on one reaction each: the earlier first), then the most reacted.
    assert [m.user_name for m in q1.highlights] == ["bob", "dan", "carol"]
    assert recap.stats.reactions == 12


async def test_links_are_listed_once_with_who_shared_them(store: Store, tea: int) -> None:
    links = (await load_stored_run(store, tea)).recap.links
    assert [(link.url, link.user_name, link.question_id) for link in links] == [
        ("https://tea.example/guide", "alice", "Q1"),
        ("https://shop.example/oolong", "bob", "Q2"),
    ]


async def test_themes_are_what_people_said_not_the_chats_own_words(store: Store, tea: int) -> None:
    recap = (await load_stored_run(store, tea)).recap
    # four people each: "oolong", rarer in ordinary talk, before "tasting"
    assert recap.themes[:2] == ("oolong", "tasting")
    words = {w for w, _ in recap.word_weights}
    # the chat's name and tag and the labels never count (its questions' words may: when
    # participants take them up)
    own = {"tea", "teachat", "#teachat", "chat", "a1", "q1", "a2"}
    assert not own & words
    assert not {"script", "alert", "the", "and", "about"} & set(recap.themes)
    assert "script" not in words  # HTML tags in a message are markup, not words


async def test_edits_deletions_and_late_answers(store: Store, tea: int) -> None:
    recap = (await load_stored_run(store, tea)).recap
    q1, _, q3 = recap.questions
    erin = by_text(q1.answers, "A1 oolong curiosity")
    assert erin.text == "A1 oolong curiosity and tasting notes" and erin.edited
    everything = [m.text for q in recap.questions for m in q.timeline] + [
        m.text for m in recap.unattributed
    ]
    assert "A1 oops wrong chat" not in everything
    # bob answered five minutes after the end, inside the late window: it counts.
    assert [m.text for m in q3.answers][-1] == "A3 late, sorry: tasting with friends"
    assert any(m.text == HTML_ANSWER for m in q1.answers)
    assert any(m.text == RTL_ANSWER for m in q1.answers)


async def test_a_second_run_knows_its_first_timers(store: Store, tea: int) -> None:
    second = (await rehearse(store, SECOND_RUN, SECOND)).run_id
    recap = (await load_stored_run(store, second)).recap
    assert (recap.stats.participants, recap.stats.first_timers, recap.stats.returning) == (3, 1, 2)
    assert {p.name: p.first_time for p in recap.participants} == {
        "alice": False,
        "gina": True,
        "bob": False,
    }
    assert thanks_text(recap).endswith("A warm welcome to our first-timers: gina.")
    assert await find_run_id(store, "latest") == second
    assert await find_run_id(store, str(tea)) == tea


async def test_find_run_id_rejects_what_is_not_there(store: Store, tea: int) -> None:
    for ref in ("999", "last", ""):
        try:
            await find_run_id(store, ref)
        except RunNotFound:
            continue
        raise AssertionError(f"{ref!r} should not name a run")


async def test_public_url_links_the_recap_to_its_archive_page(store: Store, tea: int) -> None:
    recap = (await load_stored_run(store, tea, public_url="https://chats.example.org/")).recap
    assert recap.url == f"https://chats.example.org/runs/{tea}"
    assert recap_text(recap).endswith(f"Full recap and downloads: {recap.url}")
    assert (await load_stored_run(store, tea)).recap.url is None


async def test_thanks_mention_every_participant(store: Store, tea: int) -> None:
    recap = (await load_stored_run(store, tea)).recap
    text = thanks_text(recap, mention=lambda p: f"<@{p.user_id}>")
    assert text == (
        "Thank you <@alice>, <@bob>, <@carol>, <@dan> and <@erin> for taking part!"
    )


async def test_forgotten_people_leave_no_trace_in_the_recap(store: Store, tea: int) -> None:
    await store.forget_user("console", "erin")
    recap = (await load_stored_run(store, tea)).recap
    assert "erin" not in {p.user_id for p in recap.participants}
    carol = by_text(recap.questions[0].answers, "A1 <b>bold")
    assert carol.reaction_count == 3  # erin's +1 went with her
    assert recap.stats.participants == 4
