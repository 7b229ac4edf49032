"""Words in chat messages: tokens for themes, links people shared. Patterns compiled once.

The text is plain, as people read it: each adapter has turned its platform's markup into
links, ``@name`` mentions and ``#channel`` names first. What is left here is what anyone may
type anywhere: URLs, @-mentions, and HTML tags people paste.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

URL = re.compile(r"https?://[^\s<>|\"')\]]+")
_MENTION = re.compile(r"@\w[\w.\-]*")
# A web address typed without its scheme (www.example.org, github.com/x): its parts ("www",
# "com", "org", "example") are not words anyone said. Found from where a dot is followed by
# two letters (a literal-led pattern, fast on chat text, where a sentence's dot is followed by
# a space), then matched whole from the start of its word.
# Its last label is a top-level domain as typed: 2 to 6 lower-case letters ("idea.Then", a
# missing space, stays words).
_DOT_LETTERS = re.compile(r"\.[a-z]{2}")
_ADDRESS = re.compile(r"(?:[^\W_][\w-]*\.)+[a-z]{2,6}(?![^\W\d_])(?:/\S*)?")
# Tags people paste (<b>, <script>) and anything else in angle brackets that starts like a
# tag: markup, not words.
_ANGLE = re.compile(r"</?[A-Za-z#!][^<>]*>")
# A label (a1, q12) standing alone: ``\b[aq]\d{1,3}\b``, written to start with its letter,
# which lets the regex engine skip to the next ``a`` or ``q``: twice as fast on chat text.
_LABEL = re.compile(r"[aq](?<!\w[aq])\d{1,3}\b")
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)
# Words, and the marks that end a phrase (punctuation, line breaks) as tokens of their own,
# for key phrases: two words are one phrase only when nothing stands between them.
_WORD_OR_BREAK = re.compile(_WORD.pattern + r"|[.,;:!?()\[\]\"…/]|\n", re.UNICODE)

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each even ever every few for from further get gets getting
    got had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's
    its itself just let's like lot lots made make makes making many may me might more most much
    must mustn't my myself need needs never no nor not now of off often on once one only or
    other ought our ours ourselves out over own really same say says she she'd she'll she's
    should shouldn't so some something still such sure than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've thing things think
    this those though through thru to too under until up upon us use used using very via want
    was wasn't way we we'd we'll we're we've well were weren't what what's when when's where
    where's which while who who's whom why why's will with won't would wouldn't yeah yes yet
    you you'd you'll you're you've your yours yourself yourselves great good agree totally
    definitely maybe kind sort bit quite actually always anything everything nothing people
    time first last next going know see look thanks thank lol haha hi hello hey ok okay
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def links(text: str) -> list[str]:
    """URLs in a message, without trailing dots."""
    if "http" not in text:  # the pattern needs it; most messages have no link
        return []
    return [m.group(0).rstrip(".,;:!?") for m in URL.finditer(text)]


def skip_words(exclude: Iterable[str] = ()) -> frozenset[str]:
    """Stop words plus ``exclude``, normalised once (a run has thousands of messages)."""
    return STOP_WORDS | {e.lower().lstrip("#") for e in exclude}


def words(
    text: str, *, exclude: Iterable[str] = (), skip: frozenset[str] | None = None
) -> list[str]:
    """Lower-case content words: no links, mentions, labels, numbers or stop words.

    ``skip`` (from ``skip_words``) replaces ``exclude`` when called for many messages.
    """
    skip = skip if skip is not None else skip_words(exclude)
    return [w for w in _tokens(text) if len(w) >= 3 and w not in skip]


def tokens(text: str, *, breaks: bool = False) -> list[str]:
    """Lower-case words, links, mentions, labels and markup left out; with ``breaks`` the
    marks that end a phrase too (each a token that does not start with a letter)."""
    return _tokens(text, _WORD_OR_BREAK if breaks else _WORD)


def _tokens(text: str, pattern: re.Pattern[str] = _WORD) -> list[str]:
    """``words`` before short words and ``skip`` are left out.

    Each pattern runs only when the text has the character it needs (a recap tokenises every
    message of a run, and most messages hold no link, mention or markup).
    """
    cleaned = text
    if "http" in cleaned:  # first: a URL in angle brackets goes, the words around it stay
        cleaned = URL.sub(" ", cleaned)
    if "." in cleaned:
        cleaned = _without_addresses(cleaned)
    if "@" in cleaned:
        cleaned = _MENTION.sub(" ", cleaned)
    if "<" in cleaned:
        cleaned = _ANGLE.sub(" ", cleaned)
    cleaned = _LABEL.sub(" ", cleaned.lower().replace("’", "'"))
    # A match starts with a letter and ends with a letter or digit, so it never needs
    # stripping of quotes or dashes; only a possessive "'s" comes off.
    found = pattern.findall(cleaned)
    if "'" in cleaned:
        found = [w[:-2] if w.endswith("'s") else w for w in found]
    return found


def _without_addresses(text: str) -> str:
    """``text`` with each web address typed without its scheme blanked out."""
    parts: list[str] = []
    done = 0
    for hit in _DOT_LETTERS.finditer(text):
        if hit.start() < done:
            continue
        word_start = max(text.rfind(" ", 0, hit.start()), text.rfind("\n", 0, hit.start())) + 1
        found = _ADDRESS.search(text, max(word_start, done), hit.end() + 1)
        if found is None or not found.start() <= hit.start() < found.end():
            continue
        found = _ADDRESS.match(text, found.start())  # the whole address, past the hit
        assert found is not None
        parts += [text[done : found.start()], " "]
        done = found.end()
    return "".join([*parts, text[done:]]) if parts else text


def word_counts(texts: Iterable[str], *, skip: frozenset[str]) -> dict[str, int]:
    """How often each word that ``words`` finds in ``texts`` occurs in them all: the same
    as counting ``words(text, skip=skip)`` of each text, in less time.

    Texts without markup (no ``<``, link or ``@``: most chat messages) are tokenised in one
    call, joined by line breaks: no pattern that runs on them reaches across a line break,
    and lower-casing treats one like the end of a text, so each gives the words it gives
    alone. A text with markup is tokenised alone: a link or mention pattern could reach into
    the next text. Tokens are counted in C (``Counter``) and short and skipped words left out
    of the counts, once per distinct word rather than once per word: a recap counts every
    message of a run, 50,000 in a big one, and ten times as many words.
    """
    plain: list[str] = []
    quoted: list[str] = []  # apart: only these need their possessives ("team's") cut
    counts: Counter[str] = Counter()
    for text in texts:
        if "<" in text or "http" in text or "@" in text:  # the markup ``_tokens`` cleans out
            counts.update(_tokens(text))
        elif "'" in text or "’" in text:
            quoted.append(text)
        else:
            plain.append(text)
    counts.update(_tokens("\n".join(plain)))
    counts.update(_tokens("\n".join(quoted)))
    return {w: n for w, n in counts.items() if len(w) >= 3 and w not in skip}


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line break, else a space, else hard.

    Platforms cap message sizes differently; each adapter passes its own limit. Empty text
    gives no pieces.
    """
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks
