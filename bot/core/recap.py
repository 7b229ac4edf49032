"""The recap model: figures, answers per question, highlights, links, themes, thanks. Pure.

Built from plain views of a stored run, so the same model feeds the Slack blocks, the Discord
embeds, the console text, the exports and the archive page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple

from bot.core import wording as say
from bot.core.answer_groups import AnswerGroup, group_answers
from bot.core.language import DEFAULT_LANGUAGE, language_kit
from bot.core.text import links
from bot.core.themes import Ranked, Said, asked_words, rank
from bot.core.wording import plural

# A host's star reaction picks an answer for the recap.
HOST_PICK_EMOJI = frozenset({"star", "⭐", "star2", "🌟", "glowing_star"})


# No reactions: one shared empty mapping, read-only, so that no view can change another's.
NO_REACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({})


class MessageView(NamedTuple):
    """One stored message as the recap and the exports read it.

    A named tuple: immutable like the frozen dataclass it was, and built four times faster
    (a frozen dataclass sets each field through ``object.__setattr__``): a big run has
    50,000 of these, which took 0.13 s to build and now take 0.03 s.
    """

    id: int
    message_id: str
    user_id: str
    user_name: str
    text: str
    created_at: datetime
    kind: str = "answer"
    question_id: str | None = None
    reason: str = "open"
    thread_id: str | None = None
    reply_to: str | None = None
    edited: bool = False
    # emoji -> the people who reacted with it
    reactions: Mapping[str, tuple[str, ...]] = NO_REACTIONS
    # Set by a host's `/highlight` (a pick, stored apart from reactions): never a reaction.
    highlighted: bool = False

    @property
    def reaction_count(self) -> int:
        """People who reacted at all: ten emoji from one person are one vote."""
        if not self.reactions:
            return 0
        return len({user for users in self.reactions.values() for user in users})

    @property
    def is_host(self) -> bool:
        return self.kind == "host"


@dataclass(frozen=True)
class QuestionView:
    id: str
    text: str
    posted_at: datetime | None = None
    skipped: bool = False
    # When it stopped taking answers: an async chat's window end, a live chat's next question
    # or the end (None while it is open).
    closed_at: datetime | None = None


@dataclass(frozen=True)
class RunView:
    """Everything about a stored run that a recap needs."""

    run_id: int
    chat_id: str
    title: str
    tag: str
    state: str
    scheduled_start: datetime
    started_at: datetime | None
    ended_at: datetime | None
    questions: Sequence[QuestionView]
    messages: Sequence[MessageView]
    host_ids: frozenset[str] = frozenset()
    earlier_participants: frozenset[str] = frozenset()
    highlights_per_question: int = 3
    reach: int | None = None
    interested: int | None = None  # the run's scheduled event, when it had one
    # The plan's ``language``: the stop words, stemmer and background words of the themes.
    language: str = DEFAULT_LANGUAGE
    # What the bot sent besides its posts: nudges (live chats), reminders and daily digests
    # (async chats).
    nudges: int = 0
    reminders: int = 0
    digests: int = 0


@dataclass(frozen=True)
class QuestionRecap:
    id: str
    text: str
    posted_at: datetime | None
    skipped: bool
    answers: tuple[MessageView, ...]
    highlights: tuple[MessageView, ...]
    host_messages: tuple[MessageView, ...]
    # Answers and host messages in the order they were posted, for reading the chat back.
    timeline: tuple[MessageView, ...] = ()
    host_picks: tuple[str, ...] = ()  # message ids of the highlights a host picked
    # What people said: its answers in groups that say similar things (six answers or more).
    groups: tuple[AnswerGroup, ...] = ()


@dataclass(frozen=True)
class ParticipantStat:
    user_id: str
    name: str
    messages: int
    answers: int
    first_time: bool


@dataclass(frozen=True)
class Link:
    url: str
    user_name: str
    question_id: str | None


@dataclass(frozen=True)
class Stats:
    messages: int
    participants: int
    answers: int
    host_messages: int
    reactions: int
    first_timers: int
    returning: int
    duration_minutes: int
    answers_per_question: dict[str, int]
    reach: int | None = None
    interested: int | None = None
    nudges: int = 0
    reminders: int = 0
    digests: int = 0


@dataclass(frozen=True)
class Recap:
    run_id: int
    chat_id: str
    title: str
    tag: str
    started_at: datetime | None
    ended_at: datetime | None
    stats: Stats
    questions: tuple[QuestionRecap, ...]
    unattributed: tuple[MessageView, ...]
    participants: tuple[ParticipantStat, ...]
    themes: tuple[str, ...]
    links: tuple[Link, ...]
    hosts: tuple[str, ...] = ()
    # The run's page in the archive, when PUBLIC_URL is set.
    url: str | None = None
    # (word, weight) for the word cloud, most characteristic first: the themes' own scores.
    word_weights: tuple[tuple[str, float], ...] = ()
    # Key phrases of two or three words used by two people or more, best first.
    phrases: tuple[str, ...] = ()


def build_recap(view: RunView, *, public_url: str | None = None) -> Recap:
    """The recap of one run; ``public_url`` (the archive's base URL) adds a link to its page."""
    by_question: dict[str | None, list[MessageView]] = defaultdict(list)
    for message in view.messages:
        by_question[message.question_id].append(message)
    never = _excluded_words(view)
    questions = tuple(
        _question_recap(q, by_question.get(q.id, []), view, never) for q in view.questions
    )
    people = _participants(view)
    # List comprehensions rather than generators: a big run has 50,000 messages.
    answers = [m for m in view.messages if m.kind == "answer" and m.question_id]
    host_messages = [m for m in view.messages if m.kind == "host"]
    stats = Stats(
        messages=len(view.messages),
        participants=len(people),
        answers=len(answers),
        host_messages=len(host_messages),
        reactions=sum([len(u) for m in view.messages if m.reactions for u in m.reactions.values()]),
        first_timers=sum(1 for p in people if p.first_time),
        returning=sum(1 for p in people if not p.first_time),
        duration_minutes=_minutes(view.started_at, view.ended_at),
        answers_per_question={q.id: len(q.answers) for q in questions},
        reach=view.reach,
        interested=view.interested,
        nudges=view.nudges,
        reminders=view.reminders,
        digests=view.digests,
    )
    hosts = sorted({m.user_name for m in host_messages})
    ranked = ranked_words(view, never)
    return Recap(
        run_id=view.run_id,
        chat_id=view.chat_id,
        title=view.title,
        tag=view.tag,
        started_at=view.started_at,
        ended_at=view.ended_at,
        stats=stats,
        questions=questions,
        unattributed=tuple(by_question.get(None, ())),
        participants=people,
        themes=_themes_from(ranked),
        links=tuple(_links(view.messages)),
        hosts=tuple(hosts),
        url=run_page_url(public_url, view.run_id),
        word_weights=ranked.words,
        phrases=tuple(p for p, _ in ranked.phrases[:PHRASES]),
    )


def iso_times(messages: Iterable[MessageView]) -> dict[int, str]:
    """Each message's time in ISO 8601, by its id (the store's row id, unique in a run)."""
    return {m.id: m.created_at.isoformat() for m in messages}


def run_page_url(public_url: str | None, run_id: int) -> str | None:
    """The archive page of a run: ``{PUBLIC_URL}/runs/{id}``; None without a public URL."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/runs/{run_id}"


def _minutes(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(0, round((end - start) / timedelta(minutes=1)))


def _question_recap(
    question: QuestionView, messages: list[MessageView], view: RunView, never: frozenset[str]
) -> QuestionRecap:
    answers = tuple([m for m in messages if m.kind == "answer"])
    best = highlights(answers, view.host_ids, view.highlights_per_question)
    return QuestionRecap(
        id=question.id,
        text=question.text,
        posted_at=question.posted_at,
        skipped=question.skipped,
        answers=answers,
        highlights=best,
        host_messages=tuple([m for m in messages if m.kind == "host"]),
        timeline=tuple(messages),
        host_picks=tuple(m.message_id for m in best if is_host_pick(m, view.host_ids)),
        groups=group_answers(answers, language_kit(view.language), never),
    )


def is_host_pick(message: MessageView, host_ids: frozenset[str]) -> bool:
    """A host starred it or ran ``/highlight`` on it."""
    return message.highlighted or any(
        emoji in HOST_PICK_EMOJI and set(users) & host_ids
        for emoji, users in message.reactions.items()
    )


def highlights(
    answers: Iterable[MessageView], host_ids: frozenset[str], limit: int
) -> tuple[MessageView, ...]:
    """Host picks first (all of them: a host chose them), then the most reacted up to ``limit``.

    Answers nobody reacted to are not shown; ``limit`` 0 switches highlights off.
    """
    if limit <= 0:
        return ()
    picks, reacted = [], []
    # Most answers have neither reactions nor a highlight: one comprehension leaves them out.
    for answer in [a for a in answers if a.reactions or a.highlighted]:
        if is_host_pick(answer, host_ids):
            picks.append(answer)
        elif answer.reaction_count:
            reacted.append(answer)

    def rank(a: MessageView) -> tuple[int, datetime]:
        return -a.reaction_count, a.created_at

    picks.sort(key=rank)
    reacted.sort(key=rank)
    return tuple(picks + reacted[: max(0, limit - len(picks))])


def _participants(view: RunView) -> tuple[ParticipantStat, ...]:
    """Everyone but the hosts, most messages first. Counted by ``Counter`` from lists (its
    loop is in C), not one message at a time: a big run has 50,000 messages."""
    talk = [m for m in view.messages if m.kind != "host"]
    counts = Counter([m.user_id for m in talk])
    answers = Counter([m.user_id for m in talk if m.question_id])
    names = {m.user_id: m.user_name for m in reversed(talk)}  # the first name each one used
    return tuple(
        ParticipantStat(
            user_id=user,
            name=names[user],
            messages=n,
            answers=answers[user],
            first_time=user not in view.earlier_participants,
        )
        for user, n in sorted(counts.items(), key=lambda item: (-item[1], names[item[0]].lower()))
    )


def _links(messages: Iterable[MessageView]) -> Iterable[Link]:
    seen: set[str] = set()
    for message in [m for m in messages if "http" in m.text]:  # as ``links`` would skip
        for url in links(message.text):
            key = url.rstrip("/")
            if key not in seen:
                seen.add(key)
                yield Link(url, message.user_name, message.question_id)


def _excluded_words(view: RunView) -> frozenset[str]:
    """Words that say nothing about this run: the chat's own name and tag, and people's
    names (greetings). Labels and stop words are dropped by the tokenising itself."""
    exclude = {view.tag, view.tag.lstrip("#"), view.chat_id, *view.chat_id.split("-")}
    exclude |= {m.user_name for m in view.messages}
    return frozenset(e.lower().lstrip("#@") for e in exclude if e)


def ranked_words(view: RunView, never: frozenset[str] | None = None) -> Ranked:
    """The run's words and phrases, ranked (``themes.rank``); hosts' messages left out."""
    texts: dict[str, list[str]] = defaultdict(list)
    for message in view.messages:
        if message.kind != "host":
            texts[message.user_id].append(message.text)
    asked = asked_words([view.title, *(q.text for q in view.questions)])
    said = Said(texts, never if never is not None else _excluded_words(view), asked)
    return rank(said, language_kit(view.language))


def word_weights(view: RunView, limit: int = 80) -> tuple[tuple[str, float], ...]:
    """The word cloud's words and weights: the themes' own ranking."""
    return ranked_words(view).words[:limit]


# Themes and phrases in a recap: what a reader takes in at a glance.
THEMES = 10
PHRASES = 6


def _themes_from(ranked: Ranked, limit: int = THEMES) -> tuple[str, ...]:
    """Words at least two people used, best first."""
    return tuple(w for w, _ in ranked.words if ranked.people.get(w, 0) >= 2)[:limit]


def themes(view: RunView, limit: int = THEMES) -> tuple[str, ...]:
    """The chat's most characteristic words (used by two people or more)."""
    return _themes_from(ranked_words(view), limit)


@dataclass(frozen=True)
class RunTrend:
    """One run's attendance, for the chart of a chat across its runs."""

    run_id: int
    when: datetime
    messages: int
    participants: int
    new: int
    returning: int


def trends(
    runs: Sequence[tuple[int, datetime]],
    authors: Mapping[int, Iterable[str]],
    messages: Mapping[int, int],
) -> tuple[RunTrend, ...]:
    """New and returning participants per run, in the order of ``runs`` (oldest first).

    ``authors`` maps a run to its participants (hosts left out), ``messages`` to its count.
    """
    seen: set[str] = set()
    out = []
    for run_id, when in runs:
        people = set(authors.get(run_id, ()))
        new = len(people - seen)
        out.append(
            RunTrend(run_id, when, messages.get(run_id, 0), len(people), new, len(people) - new)
        )
        seen |= people
    return tuple(out)


# Text renderings shared by the console and as fallback text of richer platform messages.

Mention = Callable[[ParticipantStat], str]


def headline_text(recap: Recap) -> str:
    """The figures of the parent message: the details go in its thread."""
    s = recap.stats
    parts = [] if s.interested is None else [say.INTERESTED.format(count=s.interested)]
    parts += [
        say.participants(s.participants, new=s.first_timers, returning=s.returning),
        plural(s.messages, "message"),
        plural(s.answers, "answer"),
        plural(s.reactions, "reaction"),
        say.how_long(s.duration_minutes),
    ]
    if s.reach is not None:
        parts.append(say.REACH.format(members=plural(s.reach, "member")))
    return ", ".join(parts)


def thanks_text(recap: Recap, mention: Mention | None = None) -> str:
    """Thanks naming every participant; ``mention`` renders a person (e.g. ``<@U123>``)."""
    if not recap.participants:
        return ""
    show = mention or (lambda p: p.name)
    return say.thanks(
        [show(p) for p in recap.participants],
        [show(p) for p in recap.participants if p.first_time],
    )


def question_text(question: QuestionRecap) -> list[str]:
    """One question's lines: its answer count and highlights (host picks starred)."""
    lines = [
        say.RECAP_QUESTION.format(
            question_id=question.id,
            state=say.SKIPPED_MARK if question.skipped else "",
            question=question.text,
            answers=plural(len(question.answers), "answer"),
        )
    ]
    for m in question.highlights:
        star = say.HOST_PICK_STAR if m.message_id in question.host_picks else ""
        lines.append(
            say.RECAP_HIGHLIGHT.format(
                star=star,
                name=m.user_name,
                text=m.text,
                reactions=plural(m.reaction_count, "reaction"),
            )
        )
    return lines


def said_lines(question: QuestionRecap) -> list[tuple[str, str, str]]:
    """Each group of the question's answers as every platform shows it: its head ("fear
    (7 answers)"), its quote on one line, and who wrote it; each platform adds its markup."""
    return [
        (
            say.GROUP_HEAD.format(label=g.label, answers=plural(g.size, "answer")),
            " ".join(g.quote.text.split()),
            g.quote.user_name,
        )
        for g in question.groups
    ]


def groups_text(question: QuestionRecap) -> list[str]:
    """What people said: one line per group of the question's answers, the quote in full."""
    said = said_lines(question)
    if not said:
        return []
    return [say.GROUPS_TITLE + ":"] + [
        say.RECAP_GROUP.format(head=head, quote=quote, name=name) for head, quote, name in said
    ]


def recap_text(recap: Recap) -> str:
    """Plain text, for the console and as the fallback text of richer platform messages."""
    lines = [say.recap_heading(recap.title, recap.tag), headline_text(recap)]
    for question in recap.questions:
        lines += question_text(question)
        lines += groups_text(question)
    if recap.themes:
        lines.append(say.THEMES.format(themes=", ".join(recap.themes)))
    if recap.phrases:
        lines.append(say.PHRASES.format(phrases=", ".join(recap.phrases)))
    if recap.links:
        lines.append(say.LINKS.format(urls=" ".join(link.url for link in recap.links)))
    if recap.participants:
        lines.append(thanks_text(recap))
    if recap.url:
        lines.append(say.FULL_RECAP.format(url=recap.url))
    return "\n".join(lines)
