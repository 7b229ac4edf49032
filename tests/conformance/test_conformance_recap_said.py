"""What people said, in the posted recap, the same on every platform: a question's answers in
groups (each with its label, size and quoted answer) under its highlights, and the chat's key
phrases with its themes (issue 16)."""

from __future__ import annotations

from tests.conformance.world import World

CURIOUS = [
    ("alice", "curiosity about oolong tasting"),
    ("bob", "oolong tasting, pure curiosity"),
    ("alice", "tasting notes of oolong, curiosity again"),
]
SENT = [
    ("bob", "my manager sent me"),
    ("alice", "my manager asked me to come"),
    ("bob", "the manager insisted on it"),
]


async def test_the_recap_says_what_people_said_per_question(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    for user, text in [x for pair in zip(CURIOUS, SENT, strict=True) for x in pair]:
        await world.user_says(user, text)
    await world.at(60)

    [q1, *_] = (await world.stored_run()).recap.questions
    groups = {g.label: g for g in q1.groups}
    assert set(groups) == {"oolong", "manager"}, groups
    # no group mixes the curious with those whose manager sent them
    texts = {m.message_id: m.text for m in q1.answers}
    assert {texts[m] for m in groups["oolong"].answers} == {t for _, t in CURIOUS}
    assert {texts[m] for m in groups["manager"].answers} == {t for _, t in SENT}

    shown = world.recap_shown()
    assert "What people said" in shown
    for group in q1.groups:
        assert f"{group.label} (3 answers)" in shown
        assert group.quote.text in shown
    assert "Key phrases" in shown and "oolong tasting" in shown
