"""The engine end to end on a real SQLite store, a simulated clock and a recording port."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from bot.core.clock import SimClock
from bot.core.engine import Engine
from bot.core.events import (
    ChannelRef,
    Command,
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    User,
)
from bot.core.plan import Plan
from bot.core.ports import Attachment, PortError
from bot.core.service import ChatService
from bot.core.store import Store
from tests.conftest import T0
from tests.fakes.port import FakePort
from tests.support import make_plan, message

CHANNEL = ChannelRef("teachat", "teachat")


def at(minutes: float) -> datetime:
    """Minutes after the planned start (19:30 UTC)."""
    return T0 + timedelta(minutes=minutes)


class Harness:
    def __init__(self, store: Store, clock: SimClock, plan: Plan | None = None) -> None:
        self.store = store
        self.clock = clock
        self.plan = plan or make_plan()
        self.port = FakePort()
        self.engine = Engine(self.plan, store, lambda _: self.port, clock)
        self.service = ChatService(self.engine)

    async def start(self) -> Harness:
        await self.engine.start()
        return self

    async def run_until(self, when: datetime) -> None:
        """Wake the engine at every moment it asks for, up to ``when``."""
        for _ in range(500):
            wake = await self.engine.tick()
            if wake is None or wake > when:
                break
            self.clock.set(max(wake, self.clock.now()))
        else:
            raise AssertionError("the engine kept asking to be woken")
        self.clock.set(when)
        await self.engine.tick()

    async def say(self, text: str, minutes: float, user: str = "alice", **kw: object) -> bool:
        await self.run_until(at(minutes))
        return await self.service.on_event(message(text, at(minutes), user=user, **kw))

    async def command(self, name: str, user: str, args: str = "") -> str:
        reply = await self.service.on_command(
            Command("console", CHANNEL, User(user, user), name, self.clock.now(), args)
        )
        await self.engine.tick()
        return reply.text

    async def run(self):
        runs = await self.store.runs_for_chat("tea")
        assert len(runs) == 1
        return runs[0]

    async def recap(self):
        return await self.engine.recap((await self.run()).id)


@pytest.fixture
async def h(store: Store, clock: SimClock) -> Harness:
    return await Harness(store, clock).start()


async def post_times(h: Harness) -> dict[str, datetime]:
    return {p.key: p.posted_at for p in await h.store.posts((await h.run()).id)}


async def test_a_whole_chat_runs_by_the_clock(h: Harness) -> None:
    await h.run_until(at(61))
    assert h.port.kinds() == ["intro", "question", "question", "question", "outro", "recap"]
    assert h.port.questions() == ["Q1", "Q2", "Q3"]
    times = await post_times(h)
    assert times["intro"] == at(0)
    assert [times[f"question:Q{i}"] for i in (1, 2, 3)] == [at(5), at(20), at(40)]
    assert times["recap"] == at(60)
    run = await h.run()
    assert (run.state, run.started_at, run.ended_at) == ("summarised", at(0), at(60))


async def test_replies_are_attributed_and_counted_in_the_recap(h: Harness) -> None:
    assert await h.say("Hi all from Leeds", -5)
    await h.say("A1 curiosity", 6)
    await h.say("A1: my team", 7, user="bob")
    await h.say("a follow-up without a label", 8, user="bob")
    await h.say("late thought: a1 also friends", 22, user="carol")  # label not at the start
    await h.say("A1 also friends", 23, user="carol")
    await h.say("Great answers everyone", 24, user="kate")  # the host
    await h.run_until(at(61))
    recap = await h.recap()
    q1, q2, q3 = recap.questions
    assert [m.text for m in q1.answers] == [
        "A1 curiosity",
        "A1: my team",
        "a follow-up without a label",
        "A1 also friends",
    ]
    assert [m.text for m in q2.answers] == ["late thought: a1 also friends"]
    assert q3.answers == ()
    assert [m.text for m in q2.host_messages] == ["Great answers everyone"]
    assert [m.reason for m in recap.unattributed] == ["pre-chat"]
    assert recap.stats.participants == 3  # the host is not counted as a participant
    assert recap.stats.messages == 7
    assert recap.stats.answers_per_question == {"Q1": 4, "Q2": 1, "Q3": 0}
    assert "Recap: Tea Chat" in h.port.sent[-1].message.text


async def test_messages_outside_a_chat_are_not_recorded(h: Harness) -> None:
    assert not await h.say("just chatting, 50 minutes before", -50)
    elsewhere = message("A1 wrong room", at(6), channel="random")
    await h.run_until(at(6))
    assert not await h.service.on_event(elsewhere)
    assert await h.say("A1 in the right room", 7)


async def test_only_hosts_and_cohosts_run_host_commands(h: Harness) -> None:
    await h.run_until(at(-1))
    reply = await h.command("startchat", "bob")
    assert reply == "Only the hosts of Tea Chat (kate) can use /startchat."
    assert h.port.sent == []
    assert (await h.command("startchat", "kate")).startswith("Started Tea Chat")
    assert (await h.command("nextq", "bob")).startswith("Only the hosts")
    assert h.port.questions() == []
    assert await h.command("nextq", "marco") == "Posted Q1."  # a co-host may
    assert await h.command("nextq", "KATE") == "Posted Q2."  # names match case-insensitively
    assert h.port.questions() == ["Q1", "Q2"]
    # Q3 still comes at its planned time after the manual start (19:29 + 40m).
    await h.run_until(at(39))
    assert h.port.questions() == ["Q1", "Q2", "Q3"]


async def test_skip_pause_resume_extend_and_end(h: Harness) -> None:
    await h.run_until(at(6))
    assert await h.command("skipq", "kate") == "Skipped Q2: it will not be posted."
    await h.run_until(at(10))
    assert await h.command("pausechat", "kate") == "Paused: no questions go out until /resumechat."
    await h.run_until(at(50))  # Q3 was due at 40 but the chat is paused
    assert h.port.questions() == ["Q1"]
    reply = await h.command("resumechat", "kate")
    assert reply == "Resumed after 40m; later questions move by as much."
    await h.run_until(at(79))
    assert h.port.questions() == ["Q1"]
    await h.run_until(at(80))  # 40 + 40 minutes of pause
    assert h.port.questions() == ["Q1", "Q3"]
    assert (await h.command("extendchat", "kate", "15")).startswith("Extended by 15m")
    await h.run_until(at(110))
    assert "outro" not in h.port.kinds()  # planned end 60 + 40 paused + 15 extended = 115
    assert await h.command("endchat", "kate") == "Ended Tea Chat; the recap follows."
    assert h.port.kinds()[-2:] == ["outro", "recap"]
    recap = await h.recap()
    assert [(q.id, q.skipped) for q in recap.questions] == [
        ("Q1", False),
        ("Q2", True),
        ("Q3", False),
    ]


async def test_commands_report_state_clearly(h: Harness) -> None:
    await h.run_until(at(-10))
    assert (await h.command("nextq", "kate")) == "Tea Chat is not running. /startchat starts it."
    status = await h.command("chatstatus", "bob")
    assert status.startswith("Tea Chat: scheduled, starts Tue 01 Dec 19:30 UTC")
    await h.run_until(at(6))
    await h.say("A1 hi", 6)
    status = await h.command("chatstatus", "bob")
    assert status == (
        "Tea Chat: running, Q1 of 3 open, next Q2 at Tue 01 Dec 19:50 UTC, "
        "ends Tue 01 Dec 20:30 UTC, 1 messages from 1 people."
    )
    upcoming = await h.service.on_command(
        Command("console", CHANNEL, User("bob", "bob"), "chats", h.clock.now())
    )
    assert [u.chat_id for u in upcoming.upcoming] == ["tea"]
    assert "nosuchcommand" in (await h.command("nosuchcommand", "kate"))


async def test_restart_mid_chat_resumes_at_the_right_question(
    store: Store, clock: SimClock
) -> None:
    first = await Harness(store, clock).start()
    await first.say("A1 before the crash", 6)
    await first.run_until(at(25))
    await first.say("A2 just before the crash", 25, user="bob")
    assert first.port.questions() == ["Q1", "Q2"]

    # The process dies; a new engine with a new port starts on the same database.
    second = Harness(store, clock)
    await second.start()
    await second.run_until(at(30))
    assert second.port.sent == []  # nothing is posted twice
    await second.say("A2 after the restart", 31, user="carol")
    await second.run_until(at(61))
    assert second.port.questions() == ["Q3"]
    assert [k for k in second.port.kinds() if k != "nudge"] == ["question", "outro", "recap"]
    recap = await second.recap()
    assert [len(q.answers) for q in recap.questions] == [1, 2, 0]


async def test_a_post_claimed_but_not_delivered_is_delivered_once_after_restart(
    store: Store, clock: SimClock
) -> None:
    first = await Harness(store, clock).start()
    await first.run_until(at(4))
    first.port.fail_next(PortError("connection reset"))
    await first.run_until(at(5))  # Q1 is claimed, its post fails
    assert first.port.questions() == []
    second = await Harness(store, clock).start()
    await second.run_until(at(6))
    assert second.port.questions() == ["Q1"]
    await second.run_until(at(19))
    assert second.port.questions() == ["Q1"]


async def test_a_post_that_landed_but_was_not_recorded_is_found_not_posted_again(
    store: Store, clock: SimClock
) -> None:
    first = await Harness(store, clock).start()
    await first.run_until(at(4))
    first.port.lose_next_answer(PortError("read timeout"))  # Q1 lands; its sender never knows
    await first.run_until(at(5))
    assert first.port.questions() == ["Q1"]
    second = Harness(store, clock)
    second.port = first.port  # another process, the same channel
    await second.start()
    await second.run_until(at(21))
    assert first.port.questions() == ["Q1", "Q2"]  # Q1 once, though it was delivered again
    assert any(key.endswith("/question:Q1") for key in first.port.finds)
    [q1] = [p for p in await store.posts((await second.run()).id) if p.key == "question:Q1"]
    assert q1.message_id == first.port.ref_of("Q1").message_id  # recorded: edits can find it


async def test_a_retry_that_cannot_ask_the_platform_posts_anyway(h: Harness) -> None:
    await h.run_until(at(4))
    h.port.fail_next(PortError("connection reset"))  # the post fails, then so does the lookup
    h.port.find_failures.append(PortError("history is down"))
    await h.run_until(at(21))
    assert h.port.questions() == ["Q1", "Q2"]  # late rather than never


async def test_a_post_that_keeps_failing_is_reported_to_the_hosts(h: Harness) -> None:
    await h.run_until(at(4))
    h.port.fail_next(PortError("channel_not_found", permanent=True))
    await h.run_until(at(5))
    notices = [s for s in h.port.sent if s.message.kind == "notice"]
    assert [n.where for n in notices] == ["@kate"]
    assert (
        "question:Q1" in notices[0].message.text and "channel_not_found" in notices[0].message.text
    )
    await h.run_until(at(21))
    assert h.port.questions() == ["Q2"]  # the chat goes on


async def test_duplicate_deliveries_are_no_ops(h: Harness) -> None:
    assert await h.say("A1 once", 6, message_id="m1")
    assert not await h.say("A1 once", 6, message_id="m1")
    like = ReactionChanged("console", CHANNEL, "m1", User("bob", "bob"), "+1", True, at(7))
    assert await h.service.on_event(like)
    assert not await h.service.on_event(like)
    recap = await h.recap()
    assert recap.stats.messages == 1 and recap.stats.reactions == 1


async def test_edits_reattribute_deletes_remove_reactions_count(h: Harness) -> None:
    await h.say("A1 first", 6, message_id="m1")
    await h.say("A1 typo answer", 21, message_id="m2", user="bob")
    await h.say("to be deleted", 22, message_id="m3", user="carol")
    await h.say("nice", 23, message_id="m4", user="dan")
    edit = MessageEdited("console", CHANNEL, "m2", "A2 fixed answer", at(22))
    assert await h.service.on_event(edit)
    assert await h.service.on_event(MessageDeleted("console", CHANNEL, "m3", at(23)))
    for user in ("bob", "carol"):
        await h.service.on_event(
            ReactionChanged("console", CHANNEL, "m1", User(user, user), "+1", True, at(24))
        )
    await h.service.on_event(
        ReactionChanged("console", CHANNEL, "m4", User("ann", "ann"), "+1", True, at(24))
    )
    await h.service.on_event(
        ReactionChanged("console", CHANNEL, "m4", User("ann", "ann"), "+1", False, at(25))
    )
    recap = await h.recap()
    q1, q2, _ = recap.questions
    assert [m.text for m in q1.answers] == ["A1 first"]
    assert [(m.text, m.edited) for m in q2.answers] == [("A2 fixed answer", True), ("nice", False)]
    assert [m.reaction_count for m in q1.answers] == [2]
    assert q2.answers[1].reaction_count == 0
    assert recap.stats.messages == 3
    # Editing the label away falls back to the question open when it arrived.
    await h.service.on_event(MessageEdited("console", CHANNEL, "m2", "no label now", at(26)))
    assert (await h.recap()).questions[1].answers[0].text == "no label now"


async def test_replies_inherit_and_threads_win(store: Store, clock: SimClock) -> None:
    h = await Harness(store, clock, make_plan(threads="per-question")).start()
    await h.say("A1 parent", 6, message_id="p1")
    await h.run_until(at(21))
    q1_thread = h.port.ref_of("Q1").thread_id
    assert q1_thread is not None
    await h.say("reply to the parent", 22, user="bob", reply_to="p1")
    await h.say("in Q1's thread, with no label", 23, user="carol", thread_id=q1_thread)
    recap = await h.recap()
    assert [m.text for m in recap.questions[0].answers] == [
        "A1 parent",
        "reply to the parent",
        "in Q1's thread, with no label",
    ]
    starts = [s.start_thread for s in h.port.sent if s.message.kind == "question"]
    assert starts == ["Q1: What brought you here?", "Q2: What is hard about it?"]


async def test_nudges_go_to_quiet_participants_once_and_respect_opt_out(h: Harness) -> None:
    await h.say("A1 hello", 6, user="alice")
    await h.say("A1 hey", 6, user="bob")
    await h.say("Welcome!", 6, user="kate")  # hosts are never nudged
    await h.say("A1 present", 12, user="erin")
    await h.run_until(at(13))
    assert (await h.command("quietchat", "bob")).startswith("Done: chathost will not nudge you")
    await h.say("A2 still here", 21, user="erin")
    await h.run_until(at(60))
    nudged = sorted(s.where for s in h.port.sent if s.message.kind == "nudge")
    # alice went quiet after Q1; Q2 went up at 20, so her nudge falls due then (6 + 10 < 20).
    # erin was quiet only 8 minutes when Q2 went up; she spoke at 21, then no question went
    # up until Q3 at 40: due then.
    assert nudged == ["@alice", "@erin"]
    text = h.port.dms_to("alice")[0].message.text
    assert "alice" in text and "Q2" in text and "/quietchat" in text
    nudge_times = {n.user_id: n.sent_at for n in await h.store.nudges((await h.run()).id)}
    assert nudge_times == {"alice": at(20), "erin": at(40)}


async def test_a_nudge_that_landed_but_was_not_recorded_is_not_sent_again(h: Harness) -> None:
    await h.say("A1 hello", 6, user="alice")
    await h.run_until(at(19))
    h.port.lose_next_dm_answer(PortError("read timeout"))  # the DM lands; we never hear so
    await h.run_until(at(39))  # Q2 at 20: alice's nudge is sent, then retried
    assert [s.where for s in h.port.sent if s.message.kind == "nudge"] == ["@alice"]
    assert any(key.endswith("/nudge:alice:1") for key in h.port.finds)
    [nudge] = await h.store.nudges((await h.run()).id)
    assert nudge.delivered_at is not None and nudge.attempts == 1


async def test_forgetme_removes_a_persons_messages(h: Harness) -> None:
    await h.say("A1 mine", 6, user="alice", message_id="a1")
    await h.say("A1 theirs", 7, user="bob", message_id="b1")
    await h.service.on_event(
        ReactionChanged("console", CHANNEL, "b1", User("alice", "alice"), "+1", True, at(8))
    )
    reply = await h.command("forgetme", "alice")
    assert reply.startswith("Deleted 1 of your stored messages")
    recap = await h.recap()
    assert [m.user_name for m in recap.questions[0].answers] == ["bob"]
    assert recap.stats.reactions == 0


async def test_late_answers_update_the_posted_recap(h: Harness) -> None:
    await h.say("A1 on time", 6)
    await h.run_until(at(61))
    assert h.port.kinds()[-1] == "recap" and h.port.updates == []
    assert await h.say("A2 sorry I'm late", 70, user="bob")  # within the 30-minute window
    assert not await h.say("A2 far too late", 95, user="carol")
    ref, updated = h.port.updates[-1]
    assert ref == h.port.sent[-1].ref
    assert updated.recap is not None
    assert updated.recap.stats.answers_per_question == {"Q1": 1, "Q2": 1, "Q3": 0}
    assert len(h.port.updates) == 1


async def test_a_hosts_highlight_puts_an_answer_first_and_can_be_taken_back(h: Harness) -> None:
    await h.say("A1 a quiet one", 6, message_id="m1", user="alice")
    await h.say("A1 a loud one", 7, message_id="m2", user="bob")
    like = ReactionChanged("console", CHANNEL, "m2", User("carol", "carol"), "+1", True, at(8))
    assert await h.service.on_event(like)
    assert (await h.command("highlight", "alice", "m1")).startswith("Only the hosts")
    assert await h.command("highlight", "kate", "m1") == "Highlighted: it will be in the recap."
    q1 = (await h.recap()).questions[0]
    assert [m.message_id for m in q1.highlights] == ["m1", "m2"]  # the pick first
    assert q1.host_picks == ("m1",)
    assert q1.highlights[0].reaction_count == 0  # the mark is not counted as a reaction
    assert await h.command("highlight", "kate", "m1") == "Highlight removed."
    assert [m.message_id for m in (await h.recap()).questions[0].highlights] == ["m2"]
    assert "not one chathost recorded" in await h.command("highlight", "kate", "nope")


async def test_a_highlight_after_the_end_updates_the_posted_recap(h: Harness) -> None:
    await h.say("A1 worth keeping", 6, message_id="m1", user="alice")
    await h.run_until(at(62))
    assert "recap" in h.port.kinds() and h.port.updates == []
    assert await h.command("highlight", "kate", "m1") == "Highlighted: it will be in the recap."
    [(_, updated)] = h.port.updates
    assert updated.recap is not None and updated.recap.questions[0].host_picks == ("m1",)
    assert "★ alice: A1 worth keeping" in updated.text


async def test_the_recap_reports_the_channels_members_as_its_reach(h: Harness) -> None:
    h.port.members = 57
    await h.say("A1 hello", 6)
    await h.run_until(at(62))
    [recap] = [s.message for s in h.port.sent if s.message.kind == "recap"]
    assert recap.recap is not None and recap.recap.stats.reach == 57
    assert "reach 57 members" in recap.text


async def test_a_platform_that_cannot_count_members_still_gets_its_recap(h: Harness) -> None:
    async def broken(channel: str) -> int | None:
        raise PortError("conversations.info: ratelimited")

    h.port.member_count = broken  # type: ignore[method-assign]
    await h.run_until(at(62))
    [recap] = [s.message for s in h.port.sent if s.message.kind == "recap"]
    assert recap.recap is not None and recap.recap.stats.reach is None
    assert "reach" not in recap.text


async def test_the_recap_carries_its_pictures_and_goes_out_without_them_if_drawing_fails(
    store: Store, clock: SimClock
) -> None:
    drawn = Harness(store, clock)
    drawn.engine.illustrate = lambda recap: [Attachment("cloud.png", b"png", recap.title)]
    await drawn.start()
    await drawn.run_until(at(62))
    [recap] = [s.message for s in drawn.port.sent if s.message.kind == "recap"]
    assert recap.attachments == (Attachment("cloud.png", b"png", "Tea Chat"),)


async def test_a_recap_whose_picture_cannot_be_drawn_is_posted_without_it(h: Harness) -> None:
    def broken(recap: object) -> list[Attachment]:
        raise OSError("no fonts")

    h.engine.illustrate = broken
    await h.run_until(at(62))
    [recap] = [s.message for s in h.port.sent if s.message.kind == "recap"]
    assert recap.attachments == () and recap.text.startswith("Recap: Tea Chat")


async def test_an_outage_is_logged_once_per_attempt_not_twice(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Through an outage the platform can be neither posted to nor asked: each retry says it
    failed, and the "could not check" line comes once, not with every retry."""
    await h.run_until(at(4))
    down = PortError("connection refused", kind="network")
    h.port.fail_next(down, times=4)
    h.port.find_failures += [down] * 4
    with caplog.at_level(logging.WARNING, logger="chathost.engine"):
        await h.run_until(at(19))
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if m.startswith("post question:Q1 of run")]) >= 3
    assert len([m for m in said if m.startswith("could not check whether question:Q1")]) == 1
    assert h.port.questions() == ["Q1"]  # and it got through once the platform was back


async def test_commands_in_a_channel_with_no_chat_say_how_to_start_one(h: Harness) -> None:
    """/ask (or a bare /startchat) where nothing is planned or running: the answer names
    /startchat TITLE, the way to open a spontaneous chat there, not only a plan's chat id."""
    elsewhere = ChannelRef("general", "general")
    for name, args in (("ask", "What now?"), ("startchat", ""), ("endchat", "")):
        reply = await h.service.on_command(
            Command("console", elsewhere, User("kate", "kate"), name, h.clock.now(), args)
        )
        assert not reply.ok
        assert "/startchat TITLE" in reply.text


async def test_after_an_outage_the_posts_go_out_in_their_order(h: Harness) -> None:
    """Q1 failed three times (the platform was down) and waits for its retry; Q2, posted
    with /nextq meanwhile, must not land before it: Q1 goes first, then Q2."""
    await h.run_until(at(4))
    h.port.fail_next(PortError("connection reset"), times=3)  # 5:00, 5:05, 5:15; next 5:35
    await h.run_until(at(5.3))
    assert h.port.questions() == []
    assert (await h.command("nextq", "kate")) == "Posted Q2."
    await h.run_until(at(7))
    assert h.port.questions() == ["Q1", "Q2"]


async def test_cohost_with_a_bare_at_sign_names_nobody_and_is_refused(h: Harness) -> None:
    """``/cohost @`` made "" a co-host (" co-hosts this run of Tea Chat."); it asks for a
    name, and the run's hosts stay as they were."""
    await h.run_until(at(-1))
    assert (await h.command("startchat", "kate")).startswith("Started Tea Chat")
    for typed in ("@", "@@", " @ "):
        reply = await h.command("cohost", "kate", typed)
        assert reply == "/cohost needs a name after the @, e.g. /cohost @marco."
    assert h.engine.chat_of(await h.run()).cohosts == ["marco"]
