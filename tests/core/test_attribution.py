"""Which question a message answers: each rule, in its order, as a table."""

from __future__ import annotations

import pytest

from bot.core.attribution import Context, answer_label, attribute, find_label

QS = frozenset({"Q1", "Q2", "Q3", "Q4", "Q10"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A1", "Q1"),
        ("Q1", "Q1"),
        ("a2: fear of judgement", "Q2"),
        ("q2)hmm", "Q2"),
        ("Q3 fear?", "Q3"),
        ("A4.", "Q4"),
        ("A10 ten", "Q10"),
        ("  A3 leading spaces", "Q3"),
        ("*A2* in bold", "Q2"),
        ("> A2 quoted", "Q2"),
        ("RT @bob: A3 so true", "Q3"),
        ("Love this! RT @bob: A2 fear", "Q2"),
        ("QT @ann_b: a1 yes", "Q1"),
        ("a Q about tools", None),
        ("A1Trust", None),
        ("A7 no such question", None),
        ("I think A1 is right", None),
        ("ask Q2 later", None),
        ("", None),
    ],
)
def test_labels(text: str, expected: str | None) -> None:
    assert find_label(text, QS) == expected


WITH_EXTRA = frozenset({"Q1", "X1", "Q2", "Q3"})  # X1: added with /ask after Q1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AX1 me, from Leeds", "X1"),
        ("X1 me too", "X1"),
        ("ax1: lower case", "X1"),
        ("*AX1* in bold", "X1"),
        ("RT @bob: AX1 so true", "X1"),
        ("A1 still the first", "Q1"),  # no typed label of a planned question names X1
        ("Q1 still the first", "Q1"),
        ("AX2 no such question", None),
        ("AX1y", None),
        ("X11 is a window system", None),
    ],
)
def test_labels_of_an_extra_question(text: str, expected: str | None) -> None:
    assert find_label(text, WITH_EXTRA) == expected


def test_the_label_people_answer_with() -> None:
    assert [answer_label(q) for q in ("Q1", "Q10", "X1", "X12")] == ["A1", "A10", "AX1", "AX12"]


def ctx(**kw: object) -> Context:
    return Context(question_ids=QS, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "context", "question", "reason"),
    [
        # (1) the thread wins even over a label naming another question
        ("A1 but in Q2's thread", ctx(thread_question="Q2", open_question="Q3"), "Q2", "thread"),
        # (2) a label beats the reply and the open question
        ("A1 late answer", ctx(reply_question="Q2", open_question="Q3"), "Q1", "label"),
        # (3) a reply inherits its parent's question
        ("so true", ctx(reply_question="Q2", open_question="Q3"), "Q2", "reply"),
        # (4) otherwise the question open on arrival
        ("so true", ctx(open_question="Q3"), "Q3", "open"),
        # before the first question: pre-chat
        ("hello from Leeds", ctx(), None, "pre-chat"),
        # a label that names no question falls through
        ("A9 hmm", ctx(open_question="Q1"), "Q1", "open"),
        # after the end: labelled late answers count, chatter does not
        ("A2 sorry I'm late", ctx(open_question="Q3", ended=True), "Q2", "label"),
        ("bye all", ctx(open_question="Q3", ended=True), None, "post-chat"),
    ],
)
def test_rules_in_order(text: str, context: Context, question: str | None, reason: str) -> None:
    result = attribute(text, context)
    assert (result.question_id, result.reason) == (question, reason)
