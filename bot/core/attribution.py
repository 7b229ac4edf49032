"""Which question a message answers. Pure functions, tested with tables of cases.

Order of the rules: a question's thread, then an explicit label (``A1``, ``q2:``...) at the
start or right after a retweet/quote marker (``RT @user:``), then the question of the message
it replies to, then the question open when it arrived; before the first question: pre-chat.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

# "closed": an async chat's answer that came after its question's window and late window.
Reason = Literal["thread", "label", "reply", "open", "pre-chat", "post-chat", "closed"]

# A label is A or Q, a number, then something that is not a letter or digit ("A1Trust" and
# "a Q about" are not labels). Markdown emphasis around it (*A1*) is tolerated. An extra
# question added with /ask to a planned chat (X1) is answered with AX1 (or X1): no label of a
# planned question (A1, Q1) can name it.
_LABEL = re.compile(r"[*_~]*([AaQq]?[Xx]|[AaQq])(\d{1,3})(?![A-Za-z0-9])")
_RETWEET = re.compile(r"\b(?:RT|QT|MT)\s+@[^\s:]+:?\s*", re.IGNORECASE)
_LEADING_QUOTE = re.compile(r"^(?:\s*>+\s?)+")


@dataclass(frozen=True)
class Context:
    """What the engine knows about a message's surroundings at arrival."""

    question_ids: Collection[str]
    thread_question: str | None = None
    reply_question: str | None = None
    open_question: str | None = None
    ended: bool = False


@dataclass(frozen=True)
class Attribution:
    question_id: str | None
    reason: Reason


def answer_label(question_id: str) -> str:
    """The label people start an answer to ``question_id`` with: A1 for Q1, AX1 for X1."""
    return "A" + (question_id[1:] if question_id.startswith("Q") else question_id)


def _named(match: re.Match[str]) -> str:
    """The question id a label names: Q2 for ``A2`` or ``q2``, X1 for ``AX1`` or ``x1``."""
    letter = "X" if match.group(1)[-1] in "Xx" else "Q"
    return f"{letter}{int(match.group(2))}"


# What such an answer is stored as: kept, but it answers no question.
TOO_LATE = Attribution(None, "closed")


def find_label(text: str, question_ids: Collection[str]) -> str | None:
    """The question a label names, if the label stands where labels stand and exists."""
    stripped = text.lstrip()
    if stripped.startswith(">"):  # the quote pattern needs a ">" first; most texts have none
        stripped = _LEADING_QUOTE.sub("", text).lstrip()
    match = _LABEL.match(stripped)
    if match:
        question_id = _named(match)
        if question_id in question_ids:
            return question_id
    if "@" not in stripped:  # no retweet marker, so no later place for a label
        return None
    for marker in _RETWEET.finditer(stripped):
        match = _LABEL.match(stripped, marker.end())
        if match:
            question_id = _named(match)
            if question_id in question_ids:
                return question_id
    return None


def attribute(text: str, ctx: Context) -> Attribution:
    if ctx.thread_question:
        return Attribution(ctx.thread_question, "thread")
    label = find_label(text, ctx.question_ids)
    if label:
        return Attribution(label, "label")
    if ctx.reply_question:
        return Attribution(ctx.reply_question, "reply")
    if ctx.open_question and not ctx.ended:
        return Attribution(ctx.open_question, "open")
    return Attribution(None, "post-chat" if ctx.ended else "pre-chat")


class Attributor:
    """``attribute(text, ctx)`` for many texts in one context, equal to calling it each time.

    The group-commit path attributes thousands of messages that share a handful of contexts;
    what does not depend on the text (the thread rule, the answer for a text without a label)
    is worked out once per context, and equal results are one shared object.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # What a text without a valid label gets; also the thread rule's answer (it comes
        # first, whatever the text says).
        self.fallback = attribute("", ctx)
        self._labelled: dict[str, Attribution] = {}

    def __call__(self, text: str) -> Attribution:
        if self.ctx.thread_question:
            return self.fallback
        label = find_label(text, self.ctx.question_ids)
        if label is None:
            return self.fallback
        found = self._labelled.get(label)
        if found is None:
            found = self._labelled[label] = Attribution(label, "label")
        return found
