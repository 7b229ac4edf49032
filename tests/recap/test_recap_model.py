"""The recap's pure parts, table by table: no store, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.recap import (
    MessageView,
    QuestionView,
    RunView,
    build_recap,
    headline_text,
    highlights,
    run_page_url,
    trends,
    word_weights,
)
from bot.core.text import words
from bot.export.csv_export import safe_cell
from bot.export.markdown import md_text, recap_markdown
from bot.export.templating import emoji, linkify

T = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
HOSTS = frozenset({"kate"})


def msg(
    n: int,
    text: str = "an answer",
    *,
    user: str = "alice",
    reactions: dict[str, tuple[str, ...]] | None = None,
    kind: str = "answer",
    question: str | None = "Q1",
    highlighted: bool = False,
) -> MessageView:
    return MessageView(
        id=n,
        message_id=f"m{n}",
        user_id=user,
        user_name=user,
        text=text,
        created_at=T + timedelta(minutes=n),
        kind=kind,
        question_id=question,
        reactions=reactions or {},
        highlighted=highlighted,
    )


def view(messages: list[MessageView], **extra: object) -> RunView:
    values: dict = {
        "run_id": 7,
        "chat_id": "tea-time",
        "title": "Tea Time: brewing together",
        "tag": "#teatime",
        "state": "summarised",
        "scheduled_start": T,
        "started_at": T,
        "ended_at": T + timedelta(hours=1),
        "questions": [QuestionView("Q1", "Which kettle do you use?")],
        "messages": messages,
        "host_ids": HOSTS,
    }
    values.update(extra)
    return RunView(**values)


@pytest.mark.parametrize(
    ("answers", "limit", "expected"),
    [
        # most reacted first; nobody-reacted answers are left out
        ([msg(1, reactions={"+1": ("b",)}), msg(2), msg(3, reactions={"+1": ("b", "c")})], 3,
         ["m3", "m1"]),
        # ten emoji from one person are one vote
        ([msg(1, reactions={"+1": ("b",), "heart": ("b",), "fire": ("b",)}),
          msg(2, reactions={"+1": ("b", "c")})], 3, ["m2", "m1"]),
        # a host's star leads even with fewer reactions; a participant's star does not
        ([msg(1, reactions={"+1": ("b", "c", "d")}), msg(2, reactions={"star": ("kate",)}),
          msg(3, reactions={"star": ("bob",)})], 3, ["m2", "m1", "m3"]),
        # /highlight picks too, and host picks are never cut by the limit
        ([msg(1, reactions={"+1": ("b", "c")}), msg(2, highlighted=True),
          msg(3, reactions={"star": ("kate",)})], 1, ["m3", "m2"]),
        # ties go to the earlier answer
        ([msg(2, reactions={"+1": ("b",)}), msg(1, reactions={"+1": ("c",)})], 3, ["m1", "m2"]),
        # limit 0 switches highlights off
        ([msg(1, reactions={"star": ("kate",)})], 0, []),
    ],
)
def test_highlights(answers: list[MessageView], limit: int, expected: list[str]) -> None:
    assert [m.message_id for m in highlights(answers, HOSTS, limit)] == expected


def test_word_weights_leave_out_the_chats_own_words_labels_and_names() -> None:
    messages = [
        msg(1, "A1 a gooseneck kettle, #teatime forever", user="alice"),
        msg(2, "a1: Gooseneck kettles pour better. Brewing is an art", user="bob"),
        msg(3, "Q1 I use my grandmother's kettle, @alice knows", user="carol"),
        msg(4, "Welcome! Pour slowly everyone", user="kate", kind="host"),
        msg(5, "gooseneck for sure, bob is right", user="dan"),
    ]
    weights = word_weights(view(messages))
    # three people said "gooseneck", a word ordinary talk hardly uses: it leads
    assert weights[0][0] == "gooseneck"
    shown = dict(weights)
    # the chat's id and tag; labels; people's names; hosts' words; stop words
    for absent in ("tea", "teatime", "time", "a1", "q1", "alice", "bob", "slowly", "forever",
                   "right", "sure", "kettles"):
        assert absent not in shown, absent
    # the question asked about kettles, and people took the word up: it counts, as one word
    assert "kettle" in shown and shown["kettle"] < shown["gooseneck"]
    assert "grandmother" in shown and "pour" in shown
    # plurals count with their singular, shown as people wrote it most
    more = view([msg(1, "tasting notes", user="a"), msg(2, "my notes, your note", user="b"),
                 msg(3, "two gardens", user="c")])
    shown = [w for w, _ in word_weights(more)]
    assert shown[0] == "notes" and set(shown) == {"notes", "tasting", "gardens"}
    # themes: words two people or more used
    assert build_recap(view(messages)).themes == ("gooseneck", "kettle")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A1 <b>Bold</b> claims <script>x()</script>", ["bold", "claims"]),
        ("<#C0123|general> and <!here> see <https://x.example|the docs>", ["docs"]),
        ("Q2: שלום עולם, سلام", ["שלום", "עולם", "سلام"]),
        ("it's Dan's teapot’s lid", ["dan", "teapot", "lid"]),
        ("🍵🍵 matcha!!", ["matcha"]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_trends_count_new_and_returning_across_runs() -> None:
    runs = [(1, T), (2, T + timedelta(days=7)), (3, T + timedelta(days=14))]
    authors = {1: {"a", "b"}, 2: {"a", "c"}, 3: {"b", "c", "d"}}
    points = trends(runs, authors, {1: 10, 2: 4})
    assert [(p.participants, p.new, p.returning, p.messages) for p in points] == [
        (2, 2, 0, 10),
        (2, 1, 1, 4),
        (3, 1, 2, 0),
    ]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (None, None),
        ("", None),
        ("https://chats.example.org", "https://chats.example.org/runs/7"),
        ("https://example.org/archive/", "https://example.org/archive/runs/7"),
    ],
)
def test_run_page_url(base: str | None, expected: str | None) -> None:
    assert run_page_url(base, 7) == expected


def test_headline_mentions_reach_only_when_known() -> None:
    plain = build_recap(view([msg(1)]))
    assert "reach" not in headline_text(plain)
    assert headline_text(build_recap(view([msg(1)], reach=120))).endswith("reach 120 members")
    assert headline_text(plain).startswith("1 participant (1 new, 0 returning), 1 message")


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("see https://a.example/x?y=1&z=2.",
         'see <a href="https://a.example/x?y=1&amp;z=2" rel="nofollow noopener noreferrer">'
         "https://a.example/x?y=1&amp;z=2</a>."),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ('https://a.example/"onmouseover="x', '<a href="https://a.example/" rel="nofollow noopener '
         'noreferrer">https://a.example/</a>&#34;onmouseover=&#34;x'),
    ],
)
def test_linkify_escapes_before_linking(text: str, html: str) -> None:
    assert str(linkify(text)) == html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>x</script>", r"\<script\>x\</script\>"),
        ("[click](javascript:x)", r"\[click\](javascript:x)"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_text_cannot_become_html_or_links(text: str, expected: str) -> None:
    assert md_text(text) == expected


def test_a_title_typed_with_startchat_cannot_become_html_in_the_markdown() -> None:
    """A spontaneous chat's title is whatever the host typed after /startchat; the
    Markdown recap's heading escapes it like every other typed text."""
    typed = view([], title="<script>alert(1)</script> [win](javascript:x)", tag="#<b>")
    heading = recap_markdown(build_recap(typed)).splitlines()[0]
    assert heading == r"# \<script\>alert(1)\</script\> \[win\](javascript:x) #\<b\>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1 agreed", "'+1 agreed"), ("fine", "fine")],
)
def test_csv_cells_never_start_a_formula(text: str, expected: str) -> None:
    assert safe_cell(text) == expected


@pytest.mark.parametrize(("name", "shown"), [("+1", "👍"), ("🍵", "🍵"), ("party_parrot", ":party_parrot:")])
def test_reaction_names_shown_as_emoji(name: str, shown: str) -> None:
    assert emoji(name) == shown
