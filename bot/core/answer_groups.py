"""What people said, per question: the answers in two to four groups that say similar things.

A host reading a question back sorts its answers into piles ("most said culture first; a few
said tools") and quotes one of each. Here each answer is a TF-IDF vector of its stemmed
content words and of the word pairs in it, and a small spherical k-means puts them in piles:
deterministic (its first centres are picked farthest-first from the most typical answer, and
every tie goes to the earlier answer), no model, no network. The number of piles is the one
whose piles hold their answers closest, less a cost for each pile more.

Yes and no weigh in: in "do you need a surplus?", "yes" and "no" are what splits the room,
yet every stop-word list drops them; each language's few words for them are kept here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.language import YES_NO, LanguageKit
from bot.core.text import tokens

MIN_ANSWERS = 6
MAX_GROUPS = 4
# A big question is grouped on this many of its answers, spread evenly over it: grouping
# costs answers x groups x rounds, and a 50,000-message run has 10,000 answers a question.
SAMPLE = 100
ROUNDS = 6
# What one pile more must win in how close answers sit to their pile's centre (a cosine).
GROUP_COST = 0.12
_YES, _NO = "+yes", "+no"
# Yes and no weigh this much more than a word used as often: on the evaluation set 1.5 keeps
# "yes, a surplus" and "no surplus needed" apart (73% -> 91%) and moves no other group.
YES_NO_WEIGHT = 1.5


class Answer(Protocol):
    """What grouping reads of an answer (a recap's ``MessageView``)."""

    @property
    def message_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def user_name(self) -> str: ...


@dataclass(frozen=True)
class AnswerGroup:
    label: str  # a word or phrase from its answers
    size: int
    quote: Answer  # the answer that best represents it
    answers: tuple[str, ...]  # message ids, in the order they were posted


Vector = dict[str, float]


def group_answers(
    answers: Sequence[Answer], kit: LanguageKit, never: frozenset[str] = frozenset()
) -> tuple[AnswerGroup, ...]:
    """Two to four groups of ``answers`` (six or more), biggest first; () when they do not
    fall into groups (too few, or nothing shared between them)."""
    if len(answers) < MIN_ANSWERS:
        return ()
    step = max(1, math.ceil(len(answers) / SAMPLE))
    sample = list(answers[::step])
    features = [_features(a.text, kit, never) for a in sample]
    forms = _forms(features)
    vectors = _tfidf([set(f) for f in features])
    usable = [i for i, v in enumerate(vectors) if v]
    if len(usable) < MIN_ANSWERS:
        return ()
    best: tuple[float, list[list[int]], list[Vector]] | None = None
    for k in range(2, MAX_GROUPS + 1):
        piles, centres = _kmeans([vectors[i] for i in usable], k)
        piles = [[usable[i] for i in pile] for pile in piles if len(pile) >= 2]
        if len(piles) < 2:
            continue
        centres = [_centre([vectors[i] for i in pile]) for pile in piles]
        closeness = sum(
            _dot(vectors[i], c) for pile, c in zip(piles, centres, strict=True) for i in pile
        ) / len(usable)  # an answer left alone, in no pile, adds nothing
        score = closeness - GROUP_COST * len(piles)
        if best is None or score > best[0] + 1e-9:
            best = score, piles, centres
    if best is None:
        return ()
    _, piles, centres = best
    groups = [
        _group(pile, centre, sample, vectors, features, forms, piles)
        for pile, centre in zip(piles, centres, strict=True)
    ]
    groups.sort(key=lambda g: -g.size)  # stable: equal piles keep their order
    return tuple(groups)


def _features(text: str, kit: LanguageKit, never: frozenset[str]) -> list[str]:
    """An answer's stemmed content words, the pairs of them side by side, and yes or no;
    each as ``key<TAB>form`` (the form as written, for labels)."""
    yes, no = YES_NO.get(kit.code, YES_NO["en"])
    found: list[str] = []
    before: tuple[str, str] | None = None  # the content word just before, if any
    for token in tokens(text, breaks=True):
        if token in yes or token in no:  # a feature of its own, never a label
            found.append(f"{_YES if token in yes else _NO}\t{token}")
            before = None
            continue
        if not token[0].isalpha() or len(token) < 3 or token in kit.stop_words or token in never:
            before = None
            continue
        stem = kit.stem(token)
        found.append(f"{stem}\t{token}")
        if before is not None:
            found.append(f"{before[0]} {stem}\t{before[1]} {token}")
        before = stem, token
    return found


def _forms(found: list[list[str]]) -> dict[str, str]:
    """Each feature's most used surface form ("tools" for "tool"), for the labels."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for features in found:
        for feature in features:
            key, _, form = feature.partition("\t")
            seen[key][form or key] += 1
    return {k: min(c, key=lambda f: (-c[f], len(f), f)) for k, c in seen.items()}


def _tfidf(found: list[set[str]]) -> list[Vector]:
    """Unit vectors; a feature one answer alone has cannot bring two together: left out."""
    keys = [{f.partition("\t")[0] for f in features} for features in found]
    df = Counter(k for ks in keys for k in ks)
    n = len(found)
    vectors = []
    for ks in keys:
        v = {
            k: (YES_NO_WEIGHT if k[0] == "+" else 1.0) * math.log(1 + n / df[k])
            for k in ks
            if df[k] >= 2
        }
        norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
        vectors.append({k: w / norm for k, w in v.items()})
    return vectors


def _dot(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(k, 0.0) for k, w in a.items())


def _centre(vectors: Sequence[Vector]) -> Vector:
    total: Vector = defaultdict(float)
    for v in vectors:
        for k, w in v.items():
            total[k] += w
    norm = math.sqrt(sum(w * w for w in total.values())) or 1.0
    return {k: w / norm for k, w in total.items()}


def _kmeans(vectors: list[Vector], k: int) -> tuple[list[list[int]], list[Vector]]:
    """Spherical k-means from farthest-first centres: the answer closest to them all, then
    each time the answer farthest from every centre so far (the earlier on a tie)."""
    mean = _centre(vectors)
    first = max(range(len(vectors)), key=lambda i: (_dot(vectors[i], mean), -i))
    centres = [vectors[first]]
    nearest = [_dot(v, centres[0]) for v in vectors]
    while len(centres) < k:
        far = min(range(len(vectors)), key=lambda i: (nearest[i], i))
        centres.append(vectors[far])
        nearest = [max(n, _dot(v, centres[-1])) for n, v in zip(nearest, vectors, strict=True)]
    piles: list[list[int]] = []
    for _ in range(ROUNDS):
        new: list[list[int]] = [[] for _ in centres]
        for i, v in enumerate(vectors):
            sims = [_dot(v, c) for c in centres]
            new[max(range(len(centres)), key=lambda j: (sims[j], -j))].append(i)
        if new == piles:
            break
        piles = new
        centres = [
            _centre([vectors[i] for i in p]) if p else c
            for p, c in zip(piles, centres, strict=True)
        ]
    return piles, centres


def _group(
    pile: list[int],
    centre: Vector,
    sample: list[Answer],
    vectors: list[Vector],
    features: list[list[str]],
    forms: dict[str, str],
    piles: list[list[int]],
) -> AnswerGroup:
    """A pile as the recap shows it: its label is the word or pair its answers share most
    and the others least (a pair before a word when as many use it), its quote the answer
    closest to its centre."""
    inside = Counter(k for i in pile for k in {f.partition("\t")[0] for f in features[i]})
    outside = Counter(
        k
        for p in piles
        if p is not pile
        for i in p
        for k in {f.partition("\t")[0] for f in features[i]}
    )
    others = max(1, sum(len(p) for p in piles) - len(pile))

    def distinct(key: str) -> tuple[float, int, str]:
        # how many of its answers say it, times how few of the others do
        share = inside[key] / len(pile) * (1 - outside[key] / others)
        return share + (0.05 if " " in key else 0.0), len(key), key

    words = [k for k in inside if not k.startswith("+")]
    shared = [k for k in words if inside[k] >= 2]
    # a pile of two always shares a feature (a lone one counts for nothing), at worst yes or no
    label = max(shared or words or list(inside), key=distinct)
    quote = max(pile, key=lambda i: (_dot(vectors[i], centre), -i))
    return AnswerGroup(
        label=forms.get(label, label),
        size=len(pile),
        quote=sample[quote],
        answers=tuple(sample[i].message_id for i in sorted(pile)),
    )
