"""Every sentence the engine says lives in bot/core/wording.py, so that it can be translated
in one place; and the sentences say exactly what they said before they moved there."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from bot.core import wording

BOT = Path(__file__).resolve().parents[2] / "bot"
CORE = BOT / "core"
# The engine, its delivery, the nudges and the durations (their errors reach the hosts), the
# commands (help lines, refusals, answers) and the recap; wording.py is where their sentences go.
SPEAKERS = sorted(
    [
        *CORE.glob("engine*.py"),
        CORE / "delivery.py",
        CORE / "nudges.py",
        CORE / "durations.py",
        *CORE.glob("commands/*.py"),
        CORE / "recap.py",
    ]
)
# Keyword arguments that name a thing in log lines, never said to a user.
LOG_NAMES = {"what", "label", "subject"}
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _exempt(tree: ast.Module) -> set[int]:
    """The nodes of log lines: a logger's arguments, and the names given to them."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in LOG_CALLS:
            exempt |= {id(n) for arg in node.args for n in ast.walk(arg)}
        for keyword in node.keywords:
            if keyword.arg in LOG_NAMES:
                exempt |= {id(n) for n in ast.walk(keyword.value)}
    return exempt


def _text_of(node: ast.AST) -> str | None:
    """The literal words of a string or an f-string (the {values} left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text_of(part) or " " for part in node.values)
    return None


def sentences(path: Path) -> list[str]:
    """String literals with words and spaces that are neither docstrings nor log lines."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree) | _exempt(tree)
    inner = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in ast.walk(node)
        if part is not node
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inner:
            continue
        text = _text_of(node)
        if text is None:
            continue
        words = [w for w in text.split() if any(c.isalpha() for c in w)]
        if len(words) >= 2:
            found.append(f"{path.name}:{node.lineno} {text!r}")  # type: ignore[attr-defined]
    return found


def test_the_engine_holds_no_sentence_of_its_own() -> None:
    names = {p.name for p in SPEAKERS}
    assert {"engine.py", "dispatch.py", "table.py", "status.py", "recap.py"} <= names
    assert [s for path in SPEAKERS for s in sentences(path)] == []


# The renderers: what every platform says comes from wording.py; what is left is each
# platform's own (its markup, its hints, its layout), listed here so that a new sentence in a
# renderer is a decision (wording.py if every platform says it, this list if only one does).
RENDERERS = {
    BOT / "adapters" / "slack" / "blocks.py": {
        "%a %d %b %H:%M UTC",
        "<!date^ ^{date_short_pretty} {time}| >",
        "Start your answer with * *",
        "Answer below",
        ", or reply in this thread.",
        "< |Every answer, in the archive>",
        "Highlights, links and thanks are in the thread.",
        "Recap details:  ",
    },
    BOT / "adapters" / "discord" / "embeds.py": {
        "Answer in this question's thread, or start your message with  ",
        "\n** ** messages · ** ** answers · ** ** reactions",
        "\nReach: ** ** server members",
        "Thanks for taking part",
        "No highlights: nobody reacted to an answer.",
        "<t: :F> (<t: :R>)",
    },
    BOT / "adapters" / "telegram" / "render.py": {
        "<b> </b>",
        '<a href="tg://user?id= "> </a>',
    },
    BOT / "export" / "markdown.py": {
        "<details><summary>All answers</summary>",
        "From the hosts:",
        "not started",
        "| participants | new | returning | messages | answers | reactions |",
        "Full recap, word cloud and downloads: < >",
        "**Answers per question:**  ",
    },
}


def test_the_renderers_say_only_their_platforms_own_words() -> None:
    for path, own in RENDERERS.items():
        found = {s.split(" ", 1)[1] for s in sentences(path)}
        assert found == {repr(text) for text in own}, path.name


def test_the_scan_finds_a_sentence_where_one_is_written(tmp_path: Path) -> None:
    """The rule above is only as good as its scan: a sentence in code is caught, in a
    docstring or a log line it is not."""
    module = tmp_path / "speaker.py"
    module.write_text(
        '"""A docstring is not said."""\n'
        "import logging\n"
        'log = logging.getLogger("x")\n'
        "def f(name: str) -> str:\n"
        '    log.warning("a log line %s is not said", name)\n'
        '    g(what=f"recording {name} as sent")\n'
        '    return f"Hello {name}, welcome back"\n'
    )
    assert sentences(module) == ["speaker.py:7 'Hello  , welcome back'"]


# The sentences as the engine said them before they moved (the adapters show them as is).


def test_the_intro_and_the_questions_read_as_before() -> None:
    assert wording.intro(None, title="Tea Chat", tag="#tea") == (
        "Welcome to Tea Chat! Questions come as Q1, Q2...; answer with A1, A2... #tea"
    )
    assert wording.intro("Hello all", title="Tea Chat", tag="") == "Hello all"
    assert wording.question_post("Q2", "Why tea?", tag="#tea") == "Q2: Why tea? #tea"
    assert wording.question_thread("Q1", "x" * 200) == ("Q1: " + "x" * 200)[:90]


def test_the_announcement_reads_as_before() -> None:
    start = datetime(2026, 3, 5, 19, 30, tzinfo=UTC)
    text = wording.announcement(
        title="Tea Chat",
        tag="#tea",
        start=start,
        duration="1h",
        questions=[("Q1", "Why?"), ("Q2", "How?")],
    )
    assert text == (
        "Tea Chat #tea starts Thu 05 Mar 19:30 UTC and runs 1h.\n"
        "The questions:\nQ1: Why?\nQ2: How?"
    )


def test_nudges_notices_and_errors_read_as_before() -> None:
    template = "Hi {name}! {question_id} is open: {question} ({title} {tag})"
    assert wording.nudge(
        template, name="ann", question_id="Q1", question="Why?", title="Tea", tag="#t"
    ) == ("Hi ann! Q1 is open: Why? (Tea #t) (Reply /quietchat and I won't nudge you again.)")
    assert wording.post_failed("question:Q1", title="Tea", error="HTTP 502") == (
        "chathost could not post question:Q1 for Tea: HTTP 502"
    )
    assert wording.unexpected(TimeoutError("read timed out")) == "TimeoutError: read timed out"
    assert wording.changed_meanwhile() == "the chat was changed at the same moment; try again"
    assert wording.did_not_settle(7) == "run 7 did not settle"
    assert wording.not_a_duration('"soon"') == (
        '"soon" is not a duration (use e.g. 1h, 1h40m, 57m30s or 12:30)'
    )


def test_the_recap_and_command_sentences_read_as_before() -> None:
    assert wording.plural(1, "answer") == "1 answer"
    assert wording.plural(3, "answer") == "3 answers"
    assert wording.join_names(["ann", "bo", "cy"]) == "ann, bo and cy"
    assert wording.participants(5, new=2, returning=3) == "5 participants (2 new, 3 returning)"
    assert wording.thanks(["ann", "bo"], ["bo"]) == (
        "Thank you ann and bo for taking part! A warm welcome to our first-timers: bo."
    )
    assert wording.thanks(["ann"], ["ann"]) == "Thank you ann for taking part!"
    assert wording.recap_heading("Tea Chat", "") == "Recap: Tea Chat"
    assert wording.NOT_A_HOST.format(title="Tea", hosts="ann", name="nextq") == (
        "Only the hosts of Tea (ann) can use /nextq."
    )


def test_a_runs_length_reads_in_the_unit_people_use() -> None:
    assert wording.how_long(0) == "0 min"
    assert wording.how_long(100) == "100 min"  # a live chat of 1h40
    assert wording.how_long(150) == "2 h 30 min"
    assert wording.how_long(26 * 60) == "26 h"
    assert wording.how_long(5 * 24 * 60) == "5 days"  # an async chat, not "7200 min"
    assert wording.how_long(2 * 24 * 60 + 6 * 60 + 59) == "2 days 6 h"
