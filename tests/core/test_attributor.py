"""``Attributor`` (bot/core/attribution.py), used by the batched message path, answers what
``attribute`` answers for every text and context: each rule, labels in every position."""

from __future__ import annotations

import itertools

import pytest

from bot.core.attribution import Attributor, Context, attribute

QS = frozenset({"Q1", "Q2", "Q3", "Q10"})
TEXTS = [
    "",
    "so true",
    "A1",
    "a2: fear",
    "A9 no such question",
    "  *A3* in bold",
    "> A2 quoted",
    ">> > a10 deep quote",
    "RT @bob: A3 so true",
    "Love this! RT @bob: A2 fear",
    "QT @ann_b: a1 yes",
    "RT @bob: A9 then RT @carol: A1 nested",
    "email me @ home, A1",
    "I think A1 is right",
    "A1Trust",
]
CONTEXTS = [
    Context(QS, thread, reply, open_question, ended)
    for thread, reply, open_question, ended in itertools.product(
        [None, "Q2"], [None, "Q3"], [None, "Q1"], [False, True]
    )
]


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_attributor_equals_attribute(ctx: Context) -> None:
    attributor = Attributor(ctx)
    for text in TEXTS:
        assert attributor(text) == attribute(text, ctx), text
    assert attributor.fallback == attribute("", ctx)
