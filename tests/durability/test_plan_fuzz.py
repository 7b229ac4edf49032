"""The plan loader never crashes: any text gives a Plan or a PlanError whose every issue names
a line and column (>= 1). Random text, YAML-shaped noise and mutations of the real chats.yaml."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.plan import Plan, PlanError, parse_plan

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "chats.yaml").read_text(encoding="utf-8")
SAMPLE_LINES = SAMPLE.splitlines()

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,  # no .hypothesis/ folder in the repository; failures print their input
)


def check(text: str) -> None:
    try:
        plan = parse_plan(text, "chats.yaml")
    except PlanError as exc:
        assert exc.issues, "a PlanError must say what is wrong"
        for issue in exc.issues:
            assert issue.line >= 1 and issue.column >= 1, issue
            assert issue.file == "chats.yaml" and issue.message, issue
            str(issue)  # printable
        return
    assert isinstance(plan, Plan)


# Fragments people (and editors) really type into YAML, good and bad.
TOKENS = [
    "chats:",
    "- id: x",
    "  title: T",
    "questions:",
    "  - {id: Q1, at: 5m, text: hi}",
    'schedule: {start: "2026-12-01 19:30", duration: 1h}',
    "rrule: FREQ=WEEKLY;BYDAY=TU",
    "&a",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "!!binary ???",
    "? [1, 2]",
    ": x",
    "---",
    "...",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "|",
    ">-",
    "\t",
    "  ",
    "#",
    "%YAML 1.1",
    "at: 99999999999999999999999d",
    "at: -5m",
    "duration: 0",
    "2026-13-45",
    "2026-02-30 25:61",
    "timezone: Mars/Olympus",
    "announce: [1d, -1d]",
    "id: Q1",
    "id: q01",
    "null",
    "~",
    "yes",
    ".inf",
    "-.nan",
    "0x1F",
    "1e400",
    "rrule: FREQ=WEEKLY;INTERVAL=0",
    "rrule: ;;;",
    "rrule: FREQ=YEARLY;BYMONTH=13",
    "rrule: DTSTART:20260101T000000",
    "timezone: yes",
    "\u202e",
    "\u200b",
    "🌷",
    "\x00",
    "\ufeff",
    "\r\n",
]


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.lists(st.integers(0, 8), max_size=40))
def test_yaml_shaped_noise(tokens: list[str], indents: list[int]) -> None:
    lines = [" " * (indents[i] if i < len(indents) else 0) + t for i, t in enumerate(tokens)]
    check("\n".join(lines))


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    lines = list(SAMPLE_LINES)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "cut", "dent"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "replace":
            head, _, _ = lines[i].partition(":")
            lines[i] = f"{head}: {draw(st.sampled_from(TOKENS))}"
        elif action == "insert":
            lines.insert(i, draw(st.sampled_from(TOKENS)))
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        if not lines:
            lines = [""]
    return "\n".join(lines)


@FUZZ
@given(mutated_sample())
def test_mutations_of_the_sample_plan(text: str) -> None:
    check(text)


def test_the_sample_plan_itself_loads() -> None:
    assert len(parse_plan(SAMPLE).chats) >= 3


def test_known_nasty_inputs() -> None:
    for text in [
        "a: &x [*x]",  # a list that contains itself
        "a: &x {b: *x}",
        "[" * 5000 + "]" * 5000,  # deeper than Python's recursion limit
        "chats:\n  - id: x\n    schedule: {start: 2026-13-45, duration: 1h}",
        "chats:\n  - questions: [{id: Q1, at: 99999999999999999999999d, text: x}]",
        "chats:\n  - schedule: {duration: 1e400}",
        "x: !!binary ???",
        "x: !!float abc",
        "x: !!timestamp 2026-99-99",
        "\x00",
        "\ufeffchats: []",
        "- 1\n- 2",
        "? [1, 2]\n: x",
        "{1: 2, 1: 3}",
        "timezone: yes",
        "chats:\n  - schedule: {rrule: 'FREQ=WEEKLY;INTERVAL=0', duration: 1h}",
        "chats:\n  - announce: [.nan]",
    ]:
        check(text)
