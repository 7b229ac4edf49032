"""Slack going away mid-chat and coming back: nothing is lost, nothing is posted twice, the
log says it in single lines, and the other platforms carry on meanwhile.

The fake is really stopped (connection refused, as in an outage or a network cut) and started
again on the same port; ``answering 5xx`` is the Port tests' (test_errors_become_port_errors,
and test_a_question_whose_answer_was_lost_is_found_not_posted_twice for an answer lost after
the post landed).
"""

from __future__ import annotations

import logging

import pytest

from bot.core.plan import Plan
from bot.core.store import Store
from tests.fakes import slack_requests as sr
from tests.fakes.port import FakePort
from tests.slack.world import ALICE, BOB, CHANNEL, calls_in, slack_world
from tests.support import make_plan


def _slack_and_console() -> Plan:
    """Tea Chat on Slack, and its twin on another platform at the same time."""
    slack = make_plan(platform="slack", channel="chat2lrn", threads="per-question")
    other = make_plan(platform="console", channel="teachat", id="tea-console")
    return Plan(timezone=slack.timezone, chats=[slack.chats[0], other.chats[0]])


def _one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


async def test_a_question_due_in_an_outage_is_posted_once_when_slack_is_back(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    async with slack_world(store, plan=_slack_and_console()) as world:
        other = FakePort()
        world.engine.port_for = lambda p: other if p == "console" else world.adapter.port
        await world.command("startchat")
        await world.at(4)
        caplog.clear()
        await world.fake.stop()  # Slack unreachable from here on

        await world.at(5)  # Q1 is due: connection refused
        await world.at(10)  # the retry fails again; the console chat starts on time
        await world.at(15)  # ... and posts its Q1
        assert world.questions() == []
        assert [s.message.kind for s in other.sent] == ["intro", "question"]
        failures = [r for r in caplog.records if "question:Q1" in r.getMessage()]
        assert len([r for r in failures if "will retry" in r.getMessage()]) >= 2
        # in words, not aiohttp's repr of the whole connection key
        assert any("refused" in r.getMessage() for r in failures)
        assert "ConnectionKey" not in caplog.text
        _one_line_each(caplog)

        await world.fake.start()  # Slack is back
        await world.at(16)
        [q1] = world.questions()
        assert q1["text"].startswith("Q1: ")
        assert [m["text"][:3] for m in world.fake.messages[CHANNEL]].count("Q1:") == 1
        q1_ts = world.fake.messages[CHANNEL][-1]["ts"]
        await world.say("A1 glad it is back", ALICE, thread_ts=q1_ts)
        [stored] = await world.messages()
        assert (stored.question_id, stored.reason) == ("Q1", "thread")
        posts = await world.store.posts((await world.run()).id or 0)
        [q1_post] = [p for p in posts if p.key == "question:Q1"]
        assert q1_post.posted_at is not None and q1_post.attempts >= 2
        _one_line_each(caplog)


async def test_socket_mode_rides_out_an_outage(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chathost")
    async with slack_world(store, mode="socket", ping_interval=0.2) as world:
        fake = world.fake
        await fake.wait_socket_connected()
        await fake.stop()  # closes the socket; slack_sdk's reconnect finds nobody
        await fake.start()
        await fake.wait_socket_connected(count=2, timeout=30)  # slack_sdk reconnected

        event = sr.message_event("A1 after the outage", user=BOB[0], channel=CHANNEL)
        envelope = await fake.push_socket_event("events_api", sr.event_callback(event))
        await fake.wait_ack(envelope)
        await world.adapter.drain()
        assert calls_in(fake, "users.info", user=BOB[0])  # chathost read it: naming its author
        assert "Traceback" not in caplog.text
