"""The recap against its evaluation set (tests/recap/eval/): chats whose themes and groups a
host wrote down before the ranking was tuned. What a reader would notice: the chat's main
topics among the top themes, no weak words at the top, groups that do not mix opposite
answers, the same groups every time. ``python -m tests.recap.eval`` prints the figures."""

from __future__ import annotations

import pytest

from tests.recap.eval.chats import EvalChat, all_chats, figures, found_in

CHATS = all_chats()
WEAK = {"help", "thing", "things", "good", "great", "people", "really", "time", "way", "lot"}


@pytest.fixture(params=CHATS, ids=[c.name for c in CHATS])
def chat(request: pytest.FixtureRequest) -> EvalChat:
    return request.param


def test_the_set_is_what_the_issue_asks_for() -> None:
    assert len(CHATS) >= 4
    assert {c.view.language for c in CHATS} > {"en"}  # not only English
    assert all(30 <= len(c.view.messages) <= 300 for c in CHATS)
    assert all(c.groups and c.themes for c in CHATS)


def test_most_of_the_hosts_themes_are_in_the_top_ten(chat: EvalChat) -> None:
    f = figures(chat)
    assert f.top10 >= f.named * 0.6, chat.recap().themes
    assert f.top3 >= 2, chat.recap().themes


def test_the_first_theme_is_one_the_host_named(chat: EvalChat) -> None:
    recap = chat.recap()
    assert any(found_in(t, recap.themes[:1], chat.view.language) for t in chat.themes)


def test_no_weak_word_in_the_top_five(chat: EvalChat) -> None:
    assert not WEAK & set(chat.recap().themes[:5])


def test_a_word_the_whole_chat_argued_about_shows_though_a_question_asked_it() -> None:
    km = next(c for c in CHATS if c.name == "knowledge_sharing")
    recap = km.recap()
    assert "culture" in recap.themes[:3]  # Q2 asked "culture or tools?"
    assert "blame culture" in recap.phrases


def test_phrases_are_two_or_three_words_used_by_two_people(chat: EvalChat) -> None:
    recap = chat.recap()
    texts = [m for m in chat.view.messages if m.kind != "host"]
    for phrase in recap.phrases:
        assert 2 <= len(phrase.split()) <= 3
        users = {m.user_id for m in texts if phrase in m.text.lower()}
        assert len(users) >= 2, phrase


def test_groups_do_not_mix_opposite_answers(chat: EvalChat) -> None:
    for question, purity in figures(chat).purity.items():
        assert purity >= 0.7, (question, purity)


def test_groups_are_two_to_four_each_quoting_one_of_its_answers(chat: EvalChat) -> None:
    recap = chat.recap()
    for question in recap.questions:
        if len(question.answers) < 6:
            assert question.groups == ()
            continue
        if question.id in chat.groups:  # the host grouped it: so does the recap
            assert 2 <= len(question.groups) <= 4, question.id
        else:  # six short answers with nothing in common may give none
            assert len(question.groups) in (0, 2, 3, 4), question.id
        ids = {a.message_id for a in question.answers}
        for group in question.groups:
            assert group.size == len(group.answers) >= 2
            assert group.quote.message_id in group.answers and set(group.answers) <= ids
            assert group.label.lower() in " ".join(
                a.text.lower() for a in question.answers if a.message_id in group.answers
            )


def test_the_same_run_gives_the_same_groups_and_themes(chat: EvalChat) -> None:
    first, again = chat.recap(), chat.recap()
    assert first.themes == again.themes and first.phrases == again.phrases
    assert [q.groups for q in first.questions] == [q.groups for q in again.questions]
