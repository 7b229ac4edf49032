"""Edits, deletes and reactions, on every platform that has them: what is stored, and what the
recap counts."""

from __future__ import annotations

from tests.conformance.world import DELETES, EDITS, REACTIONS, THREADS, World, needs


@needs(EDITS, DELETES, REACTIONS)
async def test_edits_deletes_and_reactions_are_recorded(world: World) -> None:
    await world.command("kate", "startchat")
    await world.at(5)
    kept = await world.user_says("alice", "A1 black tea")
    gone = await world.user_says("bob", "A1 nothing really")
    await world.user_says("kate", "Lovely answers")
    in_thread = None
    if world.can(THREADS):  # an edit inside a thread finds its message too
        in_thread = await world.user_says("bob", "rooibos", thread="Q1")

    await world.edit(kept, "A1 green tea")
    if in_thread is not None:
        await world.edit(in_thread, "rooibos, no milk")
    await world.delete(gone)
    await world.react(kept, "kate", "star")
    await world.react(kept, "bob", "+1")
    await world.react(kept, "bob", "tea")
    await world.react(kept, "bob", "tea", remove=True)

    stored = await world.stored_run()
    by_id = stored.by_id()
    assert gone.id not in by_id  # a deleted message leaves the run
    assert (by_id[kept.id].text, by_id[kept.id].edit_count) == ("A1 green tea", 1)
    assert by_id[kept.id].original_text == "A1 black tea"
    if in_thread is not None:
        assert (by_id[in_thread.id].text, by_id[in_thread.id].question_id) == (
            "rooibos, no milk",
            "Q1",  # still its thread's question
        )
    reactions = {(r.user_id, r.emoji) for r in stored.reactions}
    assert reactions == {
        (world.user_id("kate"), world.emoji("star")),
        (world.user_id("bob"), world.emoji("+1")),
    }

    q1 = stored.recap.questions[0]
    in_q1 = ["A1 green tea"] + (["rooibos, no milk"] if in_thread is not None else [])
    assert [a.text for a in q1.answers] == in_q1  # not the deleted one, nor the host's
    [answer] = [a for a in q1.answers if a.message_id == kept.id]
    assert answer.reactions == {
        world.emoji("star"): (world.user_id("kate"),),
        world.emoji("+1"): (world.user_id("bob"),),
    }
    [highlight] = q1.highlights
    assert highlight.message_id == kept.id and highlight.reaction_count == 2
    assert stored.recap.stats.reactions == 2
