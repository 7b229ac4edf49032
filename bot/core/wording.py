"""Every sentence the engine says, in one place, ready to be translated.

The engine, its delivery, the nudges and the durations hold no sentence of their own
(tests/core/test_wording.py keeps it so): they call these functions with plain values. A
translation replaces the templates; the functions only fill them in. Text from the plan (a
chat's own intro, outro or nudge template) is the host's and is used as written. The
commands' answers and refusals are in bot/core/commands/sentences.py for now.

Templates take their values by name with ``str.format``. This module imports nothing of the
bot, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

# Posts of a run.
INTRO = "Welcome to {title}! Questions come as Q1, Q2...; answer with A1, A2..."
QUESTION = "{question_id}: {question}"
ANNOUNCEMENT = (
    "{title} {tag} starts {start:%a %d %b %H:%M} {zone} and runs {duration}.\n"
    "The questions:\n{preview}"
)
# How long a question's thread name may be (Slack and Discord cut longer names anyway).
THREAD_NAME_LIMIT = 90

# Nudges: the chat's own template (plan.Nudges.text), then how to stop them.
NUDGE_OPT_OUT = " (Reply /quietchat and I won't nudge you again.)"

# To the hosts, by DM.
POST_FAILED = "chathost could not post {key} for {title}: {error}"

# Errors a host may see.
CHANGED_MEANWHILE = "the chat was changed at the same moment; try again"
DID_NOT_SETTLE = "run {run_id} did not settle"
UNEXPECTED = "{kind}: {error}"
# A duration in the plan or in a command (/extendchat) that cannot be read; ``shown`` quotes it.
NOT_A_DURATION = "{shown} is not a duration (use e.g. 1h, 1h40m, 57m30s or 12:30)"


def tagged(text: str, tag: str) -> str:
    """A post followed by the chat's hashtag, if it has one."""
    return f"{text} {tag}".rstrip()


def intro(own: str | None, *, title: str, tag: str) -> str:
    """The chat's own intro if the plan has one, else the standard welcome."""
    return tagged(own or INTRO.format(title=title), tag)


def question(question_id: str, text: str) -> str:
    """A question as posted and as listed in the announcement: ``Q2: text``."""
    return QUESTION.format(question_id=question_id, question=text)


def question_post(question_id: str, text: str, *, tag: str) -> str:
    return tagged(question(question_id, text), tag)


def question_thread(question_id: str, text: str) -> str:
    """The name of the thread a question opens (``threads: per-question``)."""
    return question(question_id, text)[:THREAD_NAME_LIMIT]


def announcement(
    *,
    title: str,
    tag: str,
    start: datetime,
    duration: str,
    questions: Iterable[tuple[str, str]],
) -> str:
    """``start`` in the chat's zone; ``duration`` as the plan writes durations."""
    preview = "\n".join(question(qid, text) for qid, text in questions)
    return ANNOUNCEMENT.format(
        title=title,
        tag=tag,
        start=start,
        zone=start.tzname(),
        duration=duration,
        preview=preview,
    )


def nudge(
    template: str, *, name: str, question_id: str, question: str, title: str, tag: str
) -> str:
    """The chat's nudge template filled in, and how to opt out."""
    text = template.format(
        name=name, question_id=question_id, question=question, title=title, tag=tag
    )
    return text + NUDGE_OPT_OUT


def post_failed(key: str, *, title: str, error: str) -> str:
    """Told to the hosts when a post will never land."""
    return POST_FAILED.format(key=key, title=title, error=error)


def changed_meanwhile() -> str:
    return CHANGED_MEANWHILE


def did_not_settle(run_id: int) -> str:
    return DID_NOT_SETTLE.format(run_id=run_id)


def unexpected(exc: BaseException) -> str:
    """An error an adapter did not wrap, as the hosts' notice quotes it."""
    return UNEXPECTED.format(kind=type(exc).__name__, error=exc)


def not_a_duration(shown: str) -> str:
    return NOT_A_DURATION.format(shown=shown)
