"""/forgetme after the recap is out: the posted recap is re-rendered without the person, its
word cloud included, however long after the end (the late window is for answers, not for
privacy)."""

from __future__ import annotations

from bot.core.events import ReactionChanged, User
from bot.core.ports import Attachment, Outgoing
from bot.core.recap import Recap
from bot.core.store import Store
from tests.core.test_engine import CHANNEL, Harness, at


def cloud_of(recap: Recap) -> list[Attachment]:
    """A stand-in for the word cloud: the picture's bytes are its words."""
    words = " ".join(word for word, _ in recap.word_weights)
    return [Attachment("cloud.png", words.encode(), recap.title)]


async def finished_chat(h: Harness) -> None:
    """alice and bob answer; kate (a host) stars alice's answer; the recap goes out."""
    h.engine.illustrate = cloud_of
    await h.start()
    await h.say("A1 jasmine pearls steeped twice", 6, user="alice", message_id="a1")
    await h.say("A1 smoky lapsang souchong", 7, user="bob", message_id="b1")
    await h.say("A2 jasmine again, honestly", 21, user="alice", message_id="a2")
    star = ReactionChanged("console", CHANNEL, "a1", User("kate", "kate"), "⭐", True, at(22))
    await h.service.on_event(star)
    await h.run_until(at(62))


def shown(message: Outgoing) -> str:
    """Everything a reader of the updated recap sees: its text and its picture."""
    return message.text + " ".join(a.data.decode() for a in message.attachments)


async def test_forgetme_after_the_late_window_updates_the_posted_recap(store: Store, clock) -> None:
    h = Harness(store, clock)
    await finished_chat(h)
    [posted] = [s for s in h.port.sent if s.message.kind == "recap"]
    assert "alice" in posted.message.text and "jasmine" in shown(posted.message)

    await h.run_until(at(300))  # long after the 30-minute late window
    reply = await h.command("forgetme", "alice")
    assert reply.startswith("Deleted 2 of your stored messages")

    [(ref, updated)] = h.port.updates
    assert ref == posted.ref
    assert updated.recap is not None
    assert updated.recap.stats.participants == 1
    assert [p.name for p in updated.recap.participants] == ["bob"]
    assert updated.recap.questions[0].host_picks == ()
    assert "alice" not in updated.text and "jasmine" not in shown(updated)
    assert "lapsang" in shown(updated)  # bob's words stay, in the text and the picture
    assert updated.attachments and updated.key == posted.message.key


async def test_forgetme_by_someone_who_only_reacted_updates_the_recap(store: Store, clock) -> None:
    h = Harness(store, clock)
    await finished_chat(h)
    like = ReactionChanged("console", CHANNEL, "b1", User("carol", "carol"), "+1", True, at(70))
    await h.service.on_event(like)  # a late reaction, within the window: one update
    assert h.port.updates[-1][1].recap.stats.reactions == 2  # type: ignore[union-attr]

    await h.command("forgetme", "carol")
    assert len(h.port.updates) == 2
    assert h.port.updates[-1][1].recap.stats.reactions == 1  # type: ignore[union-attr]


async def test_forgetme_by_someone_not_in_any_run_updates_nothing(store: Store, clock) -> None:
    h = Harness(store, clock)
    await finished_chat(h)
    reply = await h.command("forgetme", "zoe")
    assert reply.startswith("Deleted 0 of your stored messages")
    assert h.port.updates == []
