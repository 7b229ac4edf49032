"""The recap's bulk shortcuts give what the plain, one-at-a-time code they replaced gives.

A 50,000-message run is read, summarised and exported in bulk: texts tokenised many at a
time (``word_counts``), times read as text (``message_records``), run.json encoded by orjson,
the cycle collector paused. Each is checked here against the slow form it stands for.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.bulk import collector_paused
from bot.core.recap import MessageView, QuestionView, RunView, word_weights
from bot.core.snapshot import load_stored_run
from bot.core.store import Store, open_store
from bot.core.store.database import MessageRecord
from bot.core.text import _LABEL, skip_words, tokens, word_counts, words
from bot.core.themes import _person_tokens
from bot.export.formats import render
from bot.export.json_export import run_document
from tests.recap.helpers import FIRST, FIRST_RUN, rehearse

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # no .hypothesis/ folder in the repository; failures print their input
)

# What chat texts are made of, traps included: markup left open, labels inside words,
# possessives with either apostrophe, a capital sigma (lower-cased by its context), and
# plurals whose merging depends on the order words were first used (canva, canvas, canvases).
PIECES = [
    "tea", "Teas", "bus", "buses", "canva", "canvas", "canvases", "note", "notes", "kettle",
    "A1", "q12", "a1234", "a1-b", "Q3's", "it's", "team’s", "o'", "<https://x.example|the docs>",
    "<https://x.example", ">", "<", "<@U123>", "@alice", "<b>", "</b>", "<#C1|general>",
    "https://example.org/a.", "http", "ΟΔΟΣ", "Σ", "σ", "\n", " ", " ", "  ", "\t", "-", "'",
    "’", "🎉", "שלום", "x", "ab", "the", "_", "1",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)
SKIP = skip_words({"tea", "kettle"})
T = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)


@FUZZ
@given(st.lists(TEXTS, max_size=12))
def test_word_counts_count_what_words_finds_text_by_text(texts: list[str]) -> None:
    one_by_one = Counter(w for text in texts for w in words(text, skip=SKIP))
    assert word_counts(texts, skip=SKIP) == dict(one_by_one)


@FUZZ
@given(st.text(alphabet="aq0123479 _-'’\nxé١", max_size=40))
def test_the_label_pattern_matches_what_it_was(text: str) -> None:
    assert _LABEL.sub(" ", text) == re.compile(r"\b[aq]\d{1,3}\b").sub(" ", text)


def run_of(said: list[tuple[str, str]]) -> RunView:
    """A run in which each (user, text) was said in turn; "kate" hosts."""
    messages = [
        MessageView(
            id=n,
            message_id=f"m{n}",
            user_id=user,
            user_name=user,
            text=text,
            created_at=T + timedelta(seconds=n),
            kind="host" if user == "kate" else "answer",
            question_id="Q1",
        )
        for n, (user, text) in enumerate(said)
    ]
    return RunView(
        run_id=1,
        chat_id="tea-time",
        title="Tea Time",
        tag="#teatime",
        state="summarised",
        scheduled_start=T,
        started_at=T,
        ended_at=T + timedelta(hours=1),
        questions=[QuestionView("Q1", "Which note?")],
        messages=messages,
        host_ids=frozenset({"kate"}),
    )


@FUZZ
@given(st.lists(TEXTS, max_size=12))
def test_a_persons_phrase_tokens_are_their_texts_tokens_one_by_one(texts: list[str]) -> None:
    # tokenised in one call, each text ends a phrase as a line break would
    found = _person_tokens(texts)
    alone = [t for text in texts for t in tokens(text, breaks=True) if t[0].isalpha()]
    assert sorted(t for t in found if t[0].isalpha()) == sorted(alone)
    pairs = {p for p in itertools.pairwise(found) if all(w[0].isalpha() for w in p)}
    one_by_one = set()
    for text in texts:
        each = tokens(text, breaks=True)
        one_by_one |= {p for p in itertools.pairwise(each) if all(w[0].isalpha() for w in p)}
    assert pairs == one_by_one


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["ann", "bo", "cy", "kate"]), TEXTS), max_size=15))
def test_word_weights_do_not_depend_on_the_order_people_spoke(said: list[tuple[str, str]]) -> None:
    # counted person by person, in bulk: the same words and weights whoever spoke first
    forward = word_weights(run_of(said))
    assert word_weights(run_of(said[::-1])) == forward
    assert not {w for w, _ in forward} & {"kate", "tea", "teatime"}  # host, id, tag


def test_plurals_and_inflections_count_as_one_word_in_the_form_used_most() -> None:
    run = run_of(
        [("ann", "tools and stories"), ("bo", "a tool, learning"), ("cy", "tools, learning learn")]
    )
    weights = dict(word_weights(run))
    assert "tools" in weights and "tool" not in weights  # "tools" twice, "tool" once
    assert "stories" in weights and "learning" in weights and "learn" not in weights


def test_collector_paused_restores_what_it_found() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves the outer one's pause alone
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


async def check_records(store: Store, run_id: int) -> None:
    """``message_records`` (times read as text) agrees with the ORM rows of the run."""
    records = await store.message_records(run_id)
    rows = await store.run_messages(run_id)
    assert [(r.id, r.created_at) for r in records] == [(m.id, m.created_at) for m in rows]
    assert all(r.created_at.tzinfo is UTC for r in records)


async def test_message_records_read_the_same_times_as_the_orm(store: Store) -> None:
    await check_records(store, (await rehearse(store, FIRST_RUN, FIRST)).run_id)


async def test_message_records_on_postgres(postgres_url: str) -> None:
    store = await open_store(postgres_url)
    try:
        await check_records(store, (await rehearse(store, FIRST_RUN, FIRST)).run_id)
    finally:
        await store.close()


async def test_run_json_is_the_run_document(store: Store) -> None:
    stored = await load_stored_run(store, (await rehearse(store, FIRST_RUN, FIRST)).run_id)
    content = render(stored, "json").content
    document = run_document(stored.chat, stored.view, stored.recap)
    assert content.endswith(b"\n")
    assert json.loads(content) == json.loads(json.dumps(document, ensure_ascii=False))
    assert "🍵".encode() in content  # UTF-8 as it is, not \u escapes


def test_a_message_record_starts_with_the_fields_of_its_view() -> None:
    # _views makes each view from its record's first eleven fields, in order
    renamed = {"platform_message_id": "message_id"}
    record_fields = [renamed.get(f, f) for f in MessageRecord._fields[:11]]
    assert record_fields == list(MessageView._fields[:11])
