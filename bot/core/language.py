"""What the recap knows of a chat's language: its stop words, its stemmer, how often words are
used in ordinary talk. All three come from kept packages (stop-words, snowballstemmer,
wordfreq), installed with chathost: nothing is downloaded at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

from bot.core.text import STOP_WORDS

LanguageCode = Literal["en", "es", "fr", "de", "pt", "it", "nl"]
LANGUAGES: tuple[str, ...] = get_args(LanguageCode)
DEFAULT_LANGUAGE: LanguageCode = "en"

# The names each package gives the languages chathost supports.
_SNOWBALL = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "pt": "portuguese",
    "it": "italian",
    "nl": "dutch",
}

# Languages that elide an article or pronoun into the next word ("l'idée", "m'a", "dell'arte").
_ELIDING = frozenset({"fr", "it"})

# Words for yes and no: in a yes-or-no question they split the room (answer_groups), yet
# they are no theme; not every stop-word list names them.
YES_NO: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "en": (frozenset({"yes", "yeah", "yep", "absolutely"}), frozenset({"no", "not", "nope"})),
    "es": (frozenset({"sí", "si", "claro"}), frozenset({"no", "nunca", "jamás"})),
    "fr": (frozenset({"oui", "absolument"}), frozenset({"non", "jamais", "pas"})),
    "de": (frozenset({"ja", "jawohl", "klar"}), frozenset({"nein", "nicht", "nie"})),
    "pt": (frozenset({"sim", "claro"}), frozenset({"não", "nao", "nunca"})),
    "it": (frozenset({"sì", "si", "certo"}), frozenset({"no", "non", "mai"})),
    "nl": (frozenset({"ja", "zeker"}), frozenset({"nee", "niet", "nooit"})),
}
# How often a word missing from the background list is taken to be used: rarer than any
# word on it (wordfreq's small lists stop near 1e-6), so a chat's own jargon stands out.
UNSEEN_FREQUENCY = 1e-8


@dataclass(frozen=True)
class LanguageKit:
    code: str
    stop_words: frozenset[str]
    stem: Callable[[str], str]
    # word -> its share of ordinary talk in this language (wordfreq's "small" list)
    background: dict[str, float]
    elides: bool = False

    @property
    def yes_no(self) -> frozenset[str]:
        yes, no = YES_NO.get(self.code, YES_NO["en"])
        return yes | no

    def frequency(self, word: str) -> float:
        return self.background.get(word, UNSEEN_FREQUENCY)

    def bare(self, word: str) -> str:
        """The word without an elided article or pronoun in front: "idée" for "l'idée"."""
        if self.elides and "'" in word:
            head, _, rest = word.partition("'")
            if len(head) <= 2 or head in {"qu", "dell", "nell", "all", "dall", "sull"}:
                return rest
        return word


def language_kit(code: str) -> LanguageKit:
    """The kit of a supported language; an unknown code gets English (the plan's schema
    allows only supported ones, so this is for views built by hand)."""
    return _kit(code if code in _SNOWBALL else DEFAULT_LANGUAGE)


@lru_cache(maxsize=len(_SNOWBALL))
def _kit(code: str) -> LanguageKit:
    """Loaded once per process and language: the lists are read-only data that take 10-20 ms
    to read, and every recap of the process would otherwise read them again."""
    import snowballstemmer
    import stop_words
    from wordfreq import get_frequency_dict

    stemmer = snowballstemmer.stemmer(_SNOWBALL[code])
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        # a chat repeats its words: each is stemmed once (snowball is pure Python)
        found = cache.get(word)
        if found is None:
            found = cache[word] = stemmer.stemWord(word)
        return found

    # Every chat gets the English chat fillers ("lol", "thanks", "agree"): people mix them in.
    words = {w.lower().replace("’", "'") for w in stop_words.get_stop_words(code)}
    background = get_frequency_dict(code, "small")
    return LanguageKit(
        code, frozenset(words) | STOP_WORDS, stem, background, elides=code in _ELIDING
    )
