"""A chat's themes and key phrases: what many people said, and said far more than ordinary talk.

A careful host's notes name the words a whole chat argued about ("culture", "fear"), not the
words every conversation has ("help", "thing"). So a word ranks by how many people used it,
times how much more this chat used it than the language does in general (wordfreq's list).
Inflections count as one word ("tool"/"tools": the language's snowball stemmer), shown in the
form people used most. A question's words count when participants took them up; the chat's
tag, people's names, labels and stop words never do. Hosts' messages are left out.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.core.language import LanguageKit
from bot.core.text import tokens, word_counts

# Words of the chat's own questions and title: people repeat them because they were asked,
# so they count for less than words people brought (still enough to lead when a whole chat
# took one up, as "culture" after "culture or tools first?").
ASKED_WEIGHT = 0.6
# Longer phrases are rarer and say more: a phrase scores this much above its words' mean.
PHRASE_BONUS = 1.25
# How much more than ordinary talk a word must be used to count as wholly this chat's own
# (log2 of the ratio: 2 ** 10, a thousand times). Past that a rare word ("quedadas") does not
# outrank one more people used ("compañeros"): the count of people decides.
SATURATION = 10.0
# Phrase candidates kept after the first count, the most used first: enough for any chat,
# and bounded for a big run (50,000 messages), whose people's phrases are then looked up
# among these only.
PHRASE_CANDIDATES = 300
# Phrases are looked for in at most this many texts, spread evenly over the run (each
# person's every n-th): a chat has a few hundred; a 50,000-message run's phrases show as well
# in a tenth of it, and pairs of words cost ten times the words themselves.
PHRASE_TEXTS = 5_000
# A phrase may start with a word the stop list names ("open source", "looking stupid") when
# ordinary talk uses it less than this (1 word in 2,000: "open", not "the" or "good").
PHRASE_LEAD_FREQUENCY = 5e-4


@dataclass(frozen=True)
class Said:
    """What people said, as the themes need it: each person's texts (hosts left out)."""

    texts_by_person: dict[str, list[str]]
    # words that never count: the tag, the chat's id, people's names
    never: frozenset[str]
    # words of the chat's questions and title: they count for less
    asked: frozenset[str]


@dataclass(frozen=True)
class Ranked:
    """Single words and key phrases, best first, each with its score (for the word cloud)."""

    words: tuple[tuple[str, float], ...]
    phrases: tuple[tuple[str, float], ...]
    # how many people used each word (by its shown form): themes need two or more
    people: dict[str, int]


def rank(said: Said, kit: LanguageKit, *, limit: int = 80) -> Ranked:
    """Words and phrases of a run, ranked as a careful host would name them."""
    skip = kit.stop_words | said.never | kit.yes_no
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, ...]] = Counter()
    trigrams: Counter[tuple[str, ...]] = Counter()
    per_person: dict[str, tuple[dict[str, int], set[tuple[str, ...]]]] = {}
    texts = sum(len(t) for t in said.texts_by_person.values())
    step = max(1, math.ceil(texts / PHRASE_TEXTS))
    for person, theirs in said.texts_by_person.items():
        counts = word_counts(theirs, skip=skip)
        found = _person_tokens(theirs[::step])
        pairs = set(itertools.pairwise(found))
        triples = set(zip(found, found[1:], found[2:], strict=False))
        unigrams.update(counts)
        bigrams.update(pairs)  # each person once: a phrase ranks by its people
        trigrams.update(triples)
        per_person[person] = counts, pairs | triples

    bare = {w: kit.bare(w) for w in unigrams if w[0].isalpha()}

    def content(word: str) -> bool:
        return len(word) >= 3 and word not in skip

    people: dict[str, set[str]] = defaultdict(set)
    uses: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = defaultdict(Counter)
    stem = kit.stem
    stems = {w: stem(b) for w, b in bare.items() if content(b)}
    firsts = {kit.bare(p[0]) for p, n in bigrams.items() if n >= 2 and p[0][0].isalpha()}
    leads = {
        w: stem(w)
        for w in firsts
        if w not in stems
        and len(w) >= 3
        and w not in said.never
        and kit.frequency(w) < PHRASE_LEAD_FREQUENCY
    }
    for person, (counts, _) in per_person.items():
        for word in counts.keys() & stems.keys():
            key = stems[word]
            people[key].add(person)
            uses[key] += counts[word]
            forms[key][bare[word]] += counts[word]
    total = sum(uses.values()) or 1
    shown = {key: _most_used(forms[key]) for key in uses}
    asked = {stem(w) for w in said.asked}

    def specificity(key: str) -> float:
        share = uses[key] / total
        weight = ASKED_WEIGHT if key in asked else 1.0
        return weight * min(SATURATION, math.log2(1 + share / kit.frequency(shown[key])))

    scores = {key: len(people[key]) * specificity(key) for key in uses}
    ranked = sorted(scores, key=lambda k: (-scores[k], shown[k]))[:limit]
    words = tuple((shown[k], round(scores[k], 3)) for k in ranked)
    phrases = _phrases(bigrams, trigrams, per_person, stems, leads, shown, specificity)
    return Ranked(words, phrases, {shown[k]: len(people[k]) for k in ranked})


def _person_tokens(texts: Sequence[str]) -> list[str]:
    """One person's words and phrase breaks, in one call for the texts without markup: a
    line break ends a phrase, and no pattern reaches across one (see ``word_counts``)."""
    plain = [t for t in texts if "<" not in t]
    found = tokens("\n".join(plain), breaks=True)
    for text in texts:
        if "<" in text:  # a tag could reach into the next text: alone
            found += ["\n", *tokens(text, breaks=True)]
    return found


def _phrases(
    bigrams: Counter[tuple[str, ...]],
    trigrams: Counter[tuple[str, ...]],
    per_person: dict[str, tuple[dict[str, int], set[tuple[str, ...]]]],
    stems: dict[str, str],
    leads: dict[str, str],
    shown: dict[str, str],
    specificity: Callable[[str], float],
) -> tuple[tuple[str, float], ...]:
    """Two or three content words side by side, used by two people or more, best first.

    A phrase and a longer one that holds it, used by as many people, are one phrase: the
    longer is shown.
    """
    found = [
        p
        for counts in (bigrams, trigrams)
        for p, n in counts.most_common()
        if n >= 2 and (p[0] in stems or p[0] in leads) and all(w in stems for w in p[1:])
    ]
    found.sort(key=lambda p: -(bigrams[p] if len(p) == 2 else trigrams[p]))
    candidates = set(found[:PHRASE_CANDIDATES])
    people: dict[tuple[str, ...], set[str]] = defaultdict(set)
    forms: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for person, (_, theirs) in per_person.items():
        for phrase in theirs & candidates:
            key = tuple(stems.get(w) or leads[w] for w in phrase)
            if len(set(key)) == len(key):  # "tools tools" is no phrase
                people[key].add(person)
                forms[key][" ".join(phrase)] += 1

    def score(key: tuple[str, ...], who: set[str]) -> float:
        said = [specificity(k) for k in key if k in shown]  # a leading stop word: no score
        return len(who) * PHRASE_BONUS * sum(said) / len(said)

    scores = {key: score(key, who) for key, who in people.items() if len(who) >= 2}
    for key in [k for k in scores if len(k) == 3]:
        for part in (key[:2], key[1:]):
            if part in scores and len(people[part]) <= len(people[key]):
                del scores[part]
    best = sorted(scores, key=lambda k: (-scores[k], _most_used(forms[k])))
    return tuple((_most_used(forms[k]), round(scores[k], 3)) for k in best)


def _most_used(forms: Counter[str]) -> str:
    """The form people used most; on a tie the shortest, then the first alphabetically."""
    return min(forms, key=lambda f: (-forms[f], len(f), f))


def asked_words(texts: Iterable[str]) -> frozenset[str]:
    """The words of the chat's title and questions."""
    return frozenset(w for text in texts for w in tokens(text))
