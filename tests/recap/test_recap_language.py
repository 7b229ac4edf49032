"""The plan's ``language`` picks the stop words, the stemmer and the ordinary-talk list of the
themes, and a big question is grouped on a bounded, evenly spread part of its answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.answer_groups import SAMPLE, group_answers
from bot.core.language import LANGUAGES, language_kit
from bot.core.plan import Chat
from bot.core.recap import MessageView, build_recap
from tests.recap.eval.chats import all_chats
from tests.support import make_plan

T = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)


def answer(n: int, text: str, user: str | None = None) -> MessageView:
    who = user or f"u{n}"
    return MessageView(n, f"m{n}", who, who, text, T + timedelta(seconds=n), question_id="Q1")


def test_the_plans_language_defaults_to_english_and_names_the_supported_ones() -> None:
    chat = make_plan().chats[0]
    assert chat.language == "en"
    assert set(LANGUAGES) >= {"en", "es", "fr", "de", "pt", "it", "nl"}
    schema = Chat.model_json_schema()["properties"]["language"]
    assert schema["default"] == "en" and set(schema["enum"]) == set(LANGUAGES)


def test_each_language_brings_its_own_stop_words_and_stemmer() -> None:
    for code, stop, plural, singular in [
        ("es", "porque", "rutinas", "rutina"),
        ("fr", "parce", "carnets", "carnet"),
        ("de", "weil", "gärten", "garten"),
        ("pt", "porque", "rotinas", "rotina"),
        ("it", "perché", "abitudini", "abitudine"),
        ("nl", "omdat", "gewoontes", "gewoonte"),
    ]:
        kit = language_kit(code)
        assert stop in kit.stop_words, code
        assert kit.stem(plural) == kit.stem(singular), code
        assert kit.frequency("zzqx") < kit.frequency(singular), code


def test_a_spanish_chat_read_as_english_keeps_spanish_stop_words_as_themes() -> None:
    remoto = next(c for c in all_chats() if c.name == "remoto")
    assert remoto.view.language == "es"
    spanish = build_recap(remoto.view).themes
    english = build_recap(replace(remoto.view, language="en")).themes
    stop = language_kit("es").stop_words
    assert not stop & set(spanish)
    assert stop & set(english)  # "para", "los", "por": English lists do not know them


def test_a_big_question_is_grouped_on_an_even_spread_of_its_answers() -> None:
    kinds = ["oolong tasting notes", "my manager sent me"]
    answers = [answer(n, f"A1 {kinds[(n // 7) % 2]} {n}") for n in range(1000)]
    groups = group_answers(answers, language_kit("en"))
    assert sorted(g.label.split()[0] for g in groups) == ["manager", "oolong"]
    grouped = [m for g in groups for m in g.answers]
    assert len(grouped) == SAMPLE
    # spread over the whole question, not its first hundred answers
    assert {int(m[1:]) // 100 for m in grouped} == set(range(10))
    assert group_answers(answers, language_kit("en")) == groups  # the same every time


def test_too_few_answers_or_nothing_in_common_gives_no_groups() -> None:
    kit = language_kit("en")
    assert group_answers([answer(n, "oolong tasting") for n in range(5)], kit) == ()
    unrelated = ["oolong", "manager", "biscuits", "kettle", "garden", "weather", "bicycle"]
    assert group_answers([answer(n, t) for n, t in enumerate(unrelated)], kit) == ()


def test_addresses_typed_without_https_are_not_themes_or_phrases() -> None:
    """People paste www.example.org or github.com/x as often as full links; in any language
    the recap's themes and phrases never show the pieces of an address ("www", "com", "org",
    "github com"), while the words around them still count."""
    texts = [
        "A1 the oolong guide at www.teaguide.org helped",
        "A1 oolong notes on github.com/kate/tea-notes",
        "A1 oolong, see www.teaguide.org/brew too",
        "A1 my oolong list: leaves.example.com/list",
        "A1 oolong from tea-shop.co.uk and github.com/bob/leaves",
    ]
    base = next(c for c in all_chats() if c.name == "remoto").view
    pieces = {"www", "com", "org", "teaguide", "github", "leaves", "example", "shop", "uk"}
    for code in LANGUAGES:
        view = replace(
            base,
            language=code,
            messages=[answer(n, t) for n, t in enumerate(texts)],
            host_ids=frozenset(),
        )
        recap = build_recap(view)
        assert "oolong" in recap.themes, code
        assert not pieces & set(recap.themes), code
        assert not any(pieces & set(p.split()) for p in recap.phrases), code
