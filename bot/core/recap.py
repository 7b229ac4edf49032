"""The recap model: figures, answers per question, highlights, links, themes. Pure.

Built from plain views of a stored run, so the same model feeds the Slack blocks, the Discord
embeds, the console text, the exports and the archive page.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.text import links, words

HOST_PICK_EMOJI = frozenset({"star", "⭐", "star2", "🌟", "glowing_star"})


@dataclass(frozen=True)
class MessageView:
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
    reactions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def reaction_count(self) -> int:
        """People who reacted at all: ten emoji from one person are one vote."""
        return len({user for users in self.reactions.values() for user in users})


@dataclass(frozen=True)
class QuestionView:
    id: str
    text: str
    posted_at: datetime | None = None
    skipped: bool = False


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


@dataclass(frozen=True)
class QuestionRecap:
    id: str
    text: str
    posted_at: datetime | None
    skipped: bool
    answers: tuple[MessageView, ...]
    highlights: tuple[MessageView, ...]
    host_messages: tuple[MessageView, ...]


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


def build_recap(view: RunView) -> Recap:
    by_question: dict[str | None, list[MessageView]] = defaultdict(list)
    for message in view.messages:
        by_question[message.question_id].append(message)
    questions = tuple(_question_recap(q, by_question.get(q.id, []), view) for q in view.questions)
    people = _participants(view)
    answers = [m for m in view.messages if m.kind == "answer" and m.question_id]
    stats = Stats(
        messages=len(view.messages),
        participants=len(people),
        answers=len(answers),
        host_messages=sum(1 for m in view.messages if m.kind == "host"),
        reactions=sum(len(u) for m in view.messages for u in m.reactions.values()),
        first_timers=sum(1 for p in people if p.first_time),
        returning=sum(1 for p in people if not p.first_time),
        duration_minutes=_minutes(view.started_at, view.ended_at),
        answers_per_question={q.id: len(q.answers) for q in questions},
        reach=view.reach,
    )
    hosts = sorted({m.user_name for m in view.messages if m.kind == "host"})
    return Recap(
        run_id=view.run_id,
        chat_id=view.chat_id,
        title=view.title,
        tag=view.tag,
        started_at=view.started_at,
        ended_at=view.ended_at,
        stats=stats,
        questions=questions,
        unattributed=tuple(m for m in view.messages if m.question_id is None),
        participants=people,
        themes=themes(view),
        links=tuple(_links(view.messages)),
        hosts=tuple(hosts),
    )


def _minutes(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(0, round((end - start) / timedelta(minutes=1)))


def _question_recap(
    question: QuestionView, messages: list[MessageView], view: RunView
) -> QuestionRecap:
    answers = tuple(m for m in messages if m.kind == "answer")
    return QuestionRecap(
        id=question.id,
        text=question.text,
        posted_at=question.posted_at,
        skipped=question.skipped,
        answers=answers,
        highlights=highlights(answers, view.host_ids, view.highlights_per_question),
        host_messages=tuple(m for m in messages if m.kind == "host"),
    )


def is_host_pick(message: MessageView, host_ids: frozenset[str]) -> bool:
    return any(
        emoji in HOST_PICK_EMOJI and set(users) & host_ids
        for emoji, users in message.reactions.items()
    )


def highlights(
    answers: Iterable[MessageView], host_ids: frozenset[str], limit: int
) -> tuple[MessageView, ...]:
    """Host picks first, then the most reacted; answers nobody reacted to are not shown."""
    ranked = sorted(
        (a for a in answers if a.reaction_count or is_host_pick(a, host_ids)),
        key=lambda a: (not is_host_pick(a, host_ids), -a.reaction_count, a.created_at),
    )
    return tuple(ranked[:limit])


def _participants(view: RunView) -> tuple[ParticipantStat, ...]:
    counts: Counter[str] = Counter()
    answers: Counter[str] = Counter()
    names: dict[str, str] = {}
    for message in view.messages:
        if message.kind == "host":
            continue
        counts[message.user_id] += 1
        answers[message.user_id] += 1 if message.question_id else 0
        names.setdefault(message.user_id, message.user_name)
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
    for message in messages:
        for url in links(message.text):
            if url not in seen:
                seen.add(url)
                yield Link(url, message.user_name, message.question_id)


def themes(view: RunView, limit: int = 10) -> tuple[str, ...]:
    """The chat's most characteristic words: used by the most people, then most often.

    Counting people rather than occurrences keeps one enthusiast from setting the themes.
    """
    exclude = {view.tag, view.tag.lstrip("#"), view.chat_id, *view.chat_id.split("-")}
    exclude |= {m.user_name for m in view.messages}
    people: dict[str, set[str]] = defaultdict(set)
    uses: Counter[str] = Counter()
    for message in view.messages:
        if message.kind == "host":
            continue
        for word in words(message.text, exclude=exclude):
            people[word].add(message.user_id)
            uses[word] += 1
    _merge_plurals(people, uses)
    ranked = sorted(uses, key=lambda w: (-len(people[w]), -uses[w], w))
    return tuple(w for w in ranked if uses[w] >= 2)[:limit]


def _merge_plurals(people: dict[str, set[str]], uses: Counter[str]) -> None:
    for word in list(uses):
        singular = word[:-1]
        if word.endswith("s") and singular in uses:
            uses[singular] += uses.pop(word)
            people[singular] |= people.pop(word)


def recap_text(recap: Recap) -> str:
    """Plain text, for the console and as the fallback text of richer platform messages."""
    s = recap.stats
    lines = [
        f"Recap: {recap.title} {recap.tag}".rstrip(),
        f"{s.participants} participants ({s.first_timers} new, {s.returning} returning), "
        f"{s.messages} messages, {s.answers} answers, {s.reactions} reactions, "
        f"{s.duration_minutes} min",
    ]
    for question in recap.questions:
        state = " (skipped)" if question.skipped else ""
        lines.append(f"{question.id}{state}: {question.text} ({len(question.answers)} answers)")
        lines += [
            f"  * {m.user_name}: {m.text} ({plural(m.reaction_count, 'reaction')})"
            for m in question.highlights
        ]
    if recap.themes:
        lines.append("Themes: " + ", ".join(recap.themes))
    if recap.links:
        lines.append("Links: " + " ".join(link.url for link in recap.links))
    if recap.participants:
        lines.append("Thanks " + ", ".join(p.name for p in recap.participants) + "!")
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
