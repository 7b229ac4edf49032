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

Reason = Literal["thread", "label", "reply", "open", "pre-chat", "post-chat"]

# A label is A or Q, a number, then something that is not a letter or digit ("A1Trust" and
# "a Q about" are not labels). Markdown emphasis around it (*A1*) is tolerated.
_LABEL = re.compile(r"[*_~]*([AaQq])(\d{1,3})(?![A-Za-z0-9])")
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


def find_label(text: str, question_ids: Collection[str]) -> str | None:
    """The question a label names, if the label stands where labels stand and exists."""
    stripped = _LEADING_QUOTE.sub("", text).lstrip()
    starts = [0, *(m.end() for m in _RETWEET.finditer(stripped))]
    for start in starts:
        match = _LABEL.match(stripped, start)
        if match:
            question_id = f"Q{int(match.group(2))}"
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
