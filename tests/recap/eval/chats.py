"""The evaluation chats read into the recap's views, and the figures they give.

Each YAML file beside this one is a chat as it was said, with what its host wrote down
before the themes were tuned: the themes, the key phrases, and for some questions the
groups of answers (each message names its group, "-" for none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.core.language import language_kit
from bot.core.recap import MessageView, QuestionView, Recap, RunView, build_recap

HERE = Path(__file__).parent
START = datetime(2026, 11, 3, 19, 0, tzinfo=UTC)


@dataclass(frozen=True)
class EvalChat:
    name: str
    view: RunView
    themes: tuple[str, ...]
    phrases: tuple[str, ...]
    # question id -> message id -> the host's group for it
    groups: dict[str, dict[str, str]]

    def recap(self) -> Recap:
        return build_recap(self.view)


def load(path: Path) -> EvalChat:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    hosts = frozenset(doc["hosts"])
    messages, groups = [], {}
    for n, line in enumerate(doc["messages"]):
        user, question, group, text = (part.strip() for part in line.split("|", 3))
        qid = None if question == "-" else question
        mid = f"{path.stem}-{n}"
        if qid and group != "-":
            groups.setdefault(qid, {})[mid] = group
        messages.append(
            MessageView(
                id=n,
                message_id=mid,
                user_id=user,
                user_name=user,
                text=text,
                created_at=START + timedelta(seconds=40 * n),
                kind="host" if user in hosts else "answer",
                question_id=qid,
            )
        )
    questions = [
        QuestionView(qid, text, START + timedelta(minutes=10 * i))
        for i, (qid, text) in enumerate(doc["questions"].items())
    ]
    view = RunView(
        run_id=1,
        chat_id=doc["chat_id"],
        title=doc["title"],
        tag=doc["tag"],
        state="summarised",
        scheduled_start=START,
        started_at=START,
        ended_at=START + timedelta(hours=1),
        questions=questions,
        messages=messages,
        host_ids=hosts,
        language=doc["language"],
    )
    human = doc["human"]
    return EvalChat(path.stem, view, tuple(human["themes"]), tuple(human["phrases"]), groups)


def all_chats() -> list[EvalChat]:
    return [load(p) for p in sorted(HERE.glob("*.yaml"))]


def found_in(named: str, shown: tuple[str, ...], language: str) -> bool:
    """A human's theme is found when every word of it (stemmed) is among the shown ones: the
    host wrote "tools", the recap may show "tool"; a phrase counts as its words."""
    stem = language_kit(language).stem
    have = {stem(w) for theme in shown for w in theme.lower().split()}
    return all(stem(w) in have for w in named.lower().split())


@dataclass(frozen=True)
class Figures:
    chat: str
    named: int
    top3: int
    top5: int
    top10: int
    phrases_found: int
    phrases_named: int
    # per grouped question: the share of answers whose group holds mostly their host group
    purity: dict[str, float]


def figures(chat: EvalChat) -> Figures:
    recap = chat.recap()
    lang = chat.view.language

    def hits(n: int) -> int:
        return sum(found_in(t, recap.themes[:n], lang) for t in chat.themes)

    phrases = sum(any(p == q for q in recap.phrases) for p in chat.phrases)
    return Figures(
        chat.name,
        len(chat.themes),
        hits(3),
        hits(5),
        hits(10),
        phrases,
        len(chat.phrases),
        {q: purity(recap, q, host) for q, host in chat.groups.items()},
    )


def purity(recap: Recap, question_id: str, host: dict[str, str]) -> float:
    """Of the answers the recap grouped and the host did too, the share that sit in a group
    whose most common host group is their own: 1.0 when no group mixes opposite answers."""
    question = next(q for q in recap.questions if q.id == question_id)
    agree = total = 0
    for group in question.groups:
        named = [host[m] for m in group.answers if m in host]
        if not named:
            continue
        top = max(set(named), key=named.count)
        agree += named.count(top)
        total += len(named)
    return agree / total if total else 0.0
