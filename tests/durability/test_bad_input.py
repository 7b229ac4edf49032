"""Odd input is stored and comes back intact on both databases: 100,000-character messages,
emoji sequences, right-to-left and bidi-override text, zero-width characters; the two things no
database can hold (NUL, lone surrogates) become U+FFFD instead of failing the reply. And
/forgetme removes a person's messages, reactions and nudges, from the recap and exports too."""

from __future__ import annotations

from bot.core.clock import SimClock
from bot.core.events import MessageEdited, ReactionChanged, User
from bot.core.recap import recap_text
from bot.core.store import MessageRow, Store
from bot.export.cli import export_run
from tests.core.test_engine import CHANNEL, Harness, at
from tests.support import make_plan, message

LONG = ("A1 " + "lorem ipsum dolor sit amet, " * 4000)[:100_000]
ODD = {
    "long": LONG,
    "emoji": "A1 👩‍👩‍👧‍👦 family, 🇺🇦 flag, 🏳️‍🌈, 👋🏽, 1️⃣, 𓀀 🀄 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "rtl": "A1 مرحبا بالجميع، هذا جوابي (with English) שלום עולם",
    "bidi": "A1 \u202eevil override\u202c and \u2066isolated\u2069 text",
    "zero_width": "A1 zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060joiner",
    "combining": "A1 e\u0301 Z\u0351\u0300\u0353alg\u0489o",
    "whitespace": "A1 line one\r\nline two\n\n\tindented\u00a0nbsp\u2028sep",
}
NAMES = {
    "long": "Ana",
    "emoji": "👩‍💻 dev",
    "rtl": "حسن",
    "bidi": "\u202eevil",
    "zero_width": "zero\u200bwidth",
    "combining": "Zoë",
    "whitespace": "Tab\tName",
}
REACTIONS = ["🏳️‍🌈", "party_parrot", "👍🏽", "\u200b"]
# What no database stores: PostgreSQL refuses NUL in text; no driver encodes lone surrogates.
UNSTORABLE = {
    "nul": ("A1 before\x00after", "A1 before\ufffdafter"),
    "surrogate": ("A1 lone \ud83d half", "A1 lone \ufffd half"),
}


async def test_odd_text_is_stored_and_rendered_intact(any_store: Store) -> None:
    h = await Harness(any_store, SimClock(at(-1))).start()
    await h.run_until(at(6))
    for i, (key, text) in enumerate(ODD.items()):
        event = message(text, at(6), user=f"u-{key}", message_id=f"m-{key}")
        event = type(event)(**{**event.__dict__, "user": User(f"u-{key}", NAMES[key])})
        assert await h.service.on_event(event), key
        assert await h.service.on_event(
            ReactionChanged(
                "console",
                CHANNEL,
                f"m-{key}",
                User(f"r{i}", NAMES[key]),
                REACTIONS[i % len(REACTIONS)],
                True,
                at(7),
            )
        )
    for key, (raw, _) in UNSTORABLE.items():
        assert await h.service.on_event(message(raw, at(6), user=f"u-{key}", message_id=key))
    run = await h.run()
    stored = {m.platform_message_id: m for m in await any_store.run_messages(run.id or 0)}
    for key, text in ODD.items():
        assert stored[f"m-{key}"].text == text, key
        assert stored[f"m-{key}"].user_name == NAMES[key]
    assert len(stored["m-long"].text) == 100_000
    for key, (_, kept) in UNSTORABLE.items():
        assert stored[key].text == kept
    emoji = {r.emoji for r in await any_store.reactions_for_run(run.id or 0)}
    assert emoji == set(REACTIONS)

    # An edit to odd text keeps both versions intact.
    edit = MessageEdited("console", CHANNEL, "m-rtl", "A1 تعديل \u200f edited", at(8))
    assert await h.service.on_event(edit)
    edited = await any_store.find_message("console", "teachat", "m-rtl")
    assert edited is not None
    assert (edited.text, edited.original_text) == ("A1 تعديل \u200f edited", ODD["rtl"])

    await h.run_until(at(61))
    recap = await h.recap()
    answers = {m.message_id: m for m in recap.questions[0].answers}
    expected = {**{f"m-{k}": t for k, t in ODD.items()}, "m-rtl": edited.text}
    for key, text in expected.items():
        assert answers[key].text == text, key
    posted = h.port.sent[-1].message
    assert posted.kind == "recap" and posted.recap is not None
    text = recap_text(recap)
    for shown in recap.questions[0].highlights:
        assert f"{shown.user_name}: {shown.text}" in text  # highlights quoted whole
    assert posted.text == text


async def test_forgetme_removes_a_person_everywhere_but_elsewhere(any_store: Store, db_url) -> None:
    h = await Harness(any_store, SimClock(at(-1))).start()
    await h.say("A1 mine, with a secret", 6, user="alice", message_id="a1")
    await h.say("A1 theirs", 6, user="bob", message_id="b1")
    await h.say("A1 another of mine", 7, user="alice", message_id="a2")
    for who, target in (("alice", "b1"), ("bob", "a1"), ("carol", "a2"), ("carol", "b1")):
        assert await h.service.on_event(
            ReactionChanged("console", CHANNEL, target, User(who, who), "+1", True, at(8))
        )
    await h.run_until(at(21))  # alice and bob went quiet after Q1: both nudged at Q2
    run = await h.run()
    assert {n.user_id for n in await any_store.nudges(run.id or 0)} == {"alice", "bob"}
    # The same person id on another platform is another person: untouched.
    slack = make_plan(platform="slack", channel="C1").chats[0].model_copy(update={"id": "tea-s"})
    await any_store.upsert_chat(slack)
    other_run = await any_store.ensure_run(slack, at(0), at(60))
    kept = MessageRow(
        run_id=other_run.id or 0,
        platform="slack",
        channel_id="C1",
        platform_message_id="s1",
        user_id="alice",
        user_name="alice",
        text="A1 on slack",
        reason="label",
        created_at=at(6),
        received_at=at(6),
    )
    assert await any_store.add_message(kept, is_host=False) is not None

    assert (await h.command("forgetme", "alice")).startswith("Deleted 2 of your stored messages")

    assert [m.platform_message_id for m in await any_store.run_messages(run.id or 0)] == ["b1"]
    reactions = await any_store.reactions_for_run(run.id or 0)
    assert [(r.user_id, r.message_id) for r in reactions] == [("carol", reactions[0].message_id)]
    assert {n.user_id for n in await any_store.nudges(run.id or 0)} == {"bob"}
    assert [p.user_id for p in await any_store.participants(run.id or 0)] == ["bob"]
    assert [m.text for m in await any_store.run_messages(other_run.id or 0)] == ["A1 on slack"]

    await h.run_until(at(61))
    recap = await h.recap()
    assert [m.user_name for m in recap.questions[0].answers] == ["bob"]
    assert "alice" not in recap_text(recap)
    exported = (await export_run(db_url, str(run.id), "json")).content.decode()
    assert "alice" not in exported and "secret" not in exported and "A1 theirs" in exported

    # Anything said afterwards is recorded again, as the reply promised (a late answer).
    assert await h.say("A3 back again", 62, user="alice")
    assert [m.user_id for m in await any_store.run_messages(run.id or 0)] == ["bob", "alice"]
