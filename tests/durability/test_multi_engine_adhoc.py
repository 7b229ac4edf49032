"""Spontaneous chats with several workers on one database (SQLite and a real PostgreSQL): each
``/ask`` is one compare-and-set of the run that also claims the question's post, so whichever
worker takes the command, and whatever the others' engines do meanwhile, each asked question
goes out exactly once; a worker that dies after claiming it leaves it to another within the
claim lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.core.clock import SimClock
from bot.core.engine import CLAIM_LEASE
from bot.core.events import ChannelRef, Command, CommandReply
from bot.core.events import User as Person
from tests.core.test_engine import CHANNEL, at
from tests.durability.cluster import Cluster, ProcessDied, Worker
from tests.support import make_plan

EVENTS = ChannelRef("events", "events")  # not the planned chat's channel: no busy refusal


@pytest.fixture
async def cluster(db_url: str) -> AsyncIterator[Cluster]:
    made = Cluster(db_url, make_plan(), SimClock(at(-20)))
    yield made
    await made.close()


async def command(
    worker: Worker, name: str, args: str, when: datetime, channel: ChannelRef = EVENTS
) -> CommandReply:
    person = Person("kate", "kate")
    return await worker.service.on_command(Command("console", channel, person, name, when, args))


def asked(cluster: Cluster) -> list[str]:
    """The ids of every worker's question posts, sorted (each worker keeps its own list)."""
    return sorted(
        s.message.question_id or "" for _, s in cluster.sent() if s.message.kind == "question"
    )


async def test_each_asked_question_goes_out_once_whichever_worker_takes_it(
    cluster: Cluster,
) -> None:
    a = await cluster.add("a")
    b = await cluster.add("b")
    assert (await command(a, "startchat", "Keynote live", at(-19))).ok
    await cluster.run_until(at(-18))
    assert (await command(b, "ask", "What struck you?", at(-18))).text == "Posted Q1."
    await cluster.run_until(at(-17))
    assert (await command(a, "ask", "And the demo?", at(-17))).text == "Posted Q2."
    # Two hosts press /ask at the same instant on two workers: never the same id twice.
    replies = await asyncio.gather(
        command(a, "ask", "From the left?", at(-16)), command(b, "ask", "From the right?", at(-16))
    )
    posted = [r.text for r in replies if r.ok]
    busy = [r.text for r in replies if not r.ok]
    assert sorted(posted) in (["Posted Q3."], ["Posted Q3.", "Posted Q4."])
    assert busy in ([], ["The chat changed at the same moment; please try again."])
    await cluster.run_until(at(-15))
    assert (await command(b, "endchat", "", at(-15))).ok
    await cluster.run_until(at(-11))

    expected = ["Q1", "Q2", "Q3", "Q4"][: 2 + len(posted)]
    assert asked(cluster) == expected  # each once, across both workers
    [run] = [r for r in await a.store.all_runs() if r.chat_id.startswith("adhoc-")]
    assert run.state == "summarised"
    snapshot = b.engine.chat_of(run)
    assert [q.id for q in snapshot.questions] == expected
    recap = await b.engine.recap(run.id or 0)
    assert [q.id for q in recap.questions] == expected


async def test_an_ask_whose_worker_dies_while_posting_is_posted_by_another(
    cluster: Cluster,
) -> None:
    a = await cluster.add("a")
    await cluster.add("b")
    assert (await command(a, "startchat", "Keynote live", at(-19))).ok
    await cluster.run_until(at(-18))
    cluster.die_on.add("question:Q1")
    with pytest.raises(ProcessDied):  # the worker that took /ask dies after claiming Q1
        await command(a, "ask", "What struck you?", at(-18))
    a.alive = False
    assert asked(cluster) == []
    await cluster.run_until(at(-18) + CLAIM_LEASE)
    assert asked(cluster) == ["Q1"]  # the survivor delivered it, once
    [run] = [r for r in await cluster.alive[0].store.all_runs() if r.chat_id.startswith("adhoc-")]
    [post] = [p for p in await cluster.alive[0].store.posts(run.id or 0) if p.key == "question:Q1"]
    assert post.posted_at == at(-18) + CLAIM_LEASE


async def test_ask_in_a_planned_chat_on_two_workers_posts_the_extra_once(
    cluster: Cluster,
) -> None:
    a = await cluster.add("a")
    b = await cluster.add("b")
    await cluster.run_until(at(5))  # the planned chat runs; Q1 is out
    assert (await command(a, "ask", "Who is new?", at(6), CHANNEL)).text == "Posted X1."
    await cluster.run_until(at(61))
    assert asked(cluster) == ["Q1", "Q2", "Q3", "X1"]
    [run] = await b.store.all_runs()
    posts = {p.key: p.posted_at for p in await b.store.posts(run.id or 0)}
    assert posts["question:Q2"] == at(20) and posts["question:Q3"] == at(40)
