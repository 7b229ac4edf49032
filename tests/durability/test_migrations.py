"""The schema is versioned: a database made by the first release (with its data) upgrades to
head and keeps everything; the migrations and the models agree; workers starting together
migrate once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from bot.core.clock import SimClock
from bot.core.store import Store, open_store
from bot.core.store.database import create_engine_for
from bot.core.store.migrate import head_revision, revision_of, upgrade
from tests.conftest import T0
from tests.core.test_engine import Harness, at
from tests.support import chat_of, make_plan

ROOT = Path(__file__).resolve().parents[2]
PLAN = make_plan()
CHAT = chat_of(PLAN)


def naive(minutes: float) -> object:
    """Release 1 stored naive UTC; raw inserts here bypass the UTCDateTime type."""
    return (T0 + timedelta(minutes=minutes)).replace(tzinfo=None)


RELEASE_1_ROWS: list[tuple[str, dict[str, object]]] = [
    (
        "chats",
        {
            "id": "tea",
            "title": "Tea Chat",
            "tag": "#teachat",
            "platform": "console",
            "channel": "teachat",
            "plan_json": CHAT.model_dump_json(),
        },
    ),
    (
        "runs",
        {
            "id": 1,
            "chat_id": "tea",
            "platform": "console",
            "channel": "teachat",
            "scheduled_start": naive(0),
            "state": "running",
            "started_at": naive(0),
            "end_at": naive(60),
            "shift_seconds": 0.0,
            "next_question": 2,
            "current_question": "Q2",
            "current_question_at": naive(20),
            "plan_json": CHAT.model_dump_json(),
            "version": 3,
        },
    ),
    *[
        (
            "posts",
            {
                "id": i,
                "run_id": 1,
                "key": key,
                "kind": kind,
                "question_id": qid,
                "claimed_at": naive(minute),
                "posted_at": None if pending else naive(minute),
                "skipped": False,
                "message_id": None if pending else f"p{i}",
                "channel_id": None if pending else "teachat",
                "attempts": 1 if pending else 0,
                "error": "HTTP 503" if pending else None,
                "gave_up": False,
            },
        )
        for i, (key, kind, qid, minute, pending) in enumerate(
            [
                ("intro", "intro", None, 0, False),
                ("question:Q1", "question", "Q1", 5, False),
                ("question:Q2", "question", "Q2", 20, True),  # failed once, not yet retried
            ],
            start=1,
        )
    ],
    (
        "messages",
        {
            "id": 1,
            "run_id": 1,
            "platform": "console",
            "channel_id": "teachat",
            "platform_message_id": "m1",
            "user_id": "alice",
            "user_name": "Alice 🌷",
            "text": "A1 مرحبا from Leeds ☕",
            "kind": "answer",
            "question_id": "Q1",
            "reason": "label",
            "created_at": naive(6),
            "received_at": naive(6),
            "edit_count": 0,
        },
    ),
    (
        "reactions",
        {
            "id": 1,
            "message_id": 1,
            "user_id": "bob",
            "user_name": "bob",
            "emoji": "👍",
            "created_at": naive(7),
        },
    ),
    (
        "participants",
        {
            "id": 1,
            "run_id": 1,
            "user_id": "alice",
            "user_name": "Alice 🌷",
            "is_host": False,
            "first_at": naive(6),
            "last_at": naive(6),
            "messages": 1,
        },
    ),
    (
        "nudges",
        {
            "id": 1,
            "run_id": 1,
            "user_id": "carol",
            "seq": 1,
            "question_id": "Q1",
            "via": "dm",
            "sent_at": naive(15),
        },
    ),
    (
        "user_prefs",
        {"platform": "console", "user_id": "dan", "quiet": True, "updated_at": naive(1)},
    ),
]


async def make_release_1_database(url: str, *, versioned: bool = True) -> None:
    """A database as the first release left it: schema 0001 and a chat half way through.

    ``versioned=False`` drops alembic_version: release 1 itself made its tables with
    create_all and never recorded a version.
    """
    engine = create_engine_for(url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            meta = sa.MetaData()
            await conn.run_sync(meta.reflect)
            for table, row in RELEASE_1_ROWS:
                await conn.execute(meta.tables[table].insert().values(**row))
            if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for table in ("runs", "posts", "messages", "reactions", "participants", "nudges"):
                    await conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"
                    )
            if not versioned:
                await conn.exec_driver_sql("DROP TABLE alembic_version")
        assert await revision_of(engine) == ("0001" if versioned else None)
    finally:
        await engine.dispose()


async def check_release_1_data(store: Store) -> None:
    [run] = await store.all_runs()
    assert (run.state, run.next_question, run.current_question, run.version) == (
        "running",
        2,
        "Q2",
        3,
    )
    assert run.started_at == T0 and run.current_question_at == at(20)
    posts = await store.posts(1)
    assert [(p.key, p.posted_at is not None) for p in posts] == [
        ("intro", True),
        ("question:Q1", True),
        ("question:Q2", False),
    ]
    assert all(p.lease_owner is None and p.lease_until is None for p in posts)
    [message] = await store.run_messages(1)
    assert (message.text, message.user_name) == ("A1 مرحبا from Leeds ☕", "Alice 🌷")
    [reaction] = await store.reactions_for_run(1)
    assert (reaction.user_id, reaction.emoji) == ("bob", "👍")
    [person] = await store.participants(1)
    assert (person.user_id, person.messages, person.last_at) == ("alice", 1, at(6))
    [nudge] = await store.nudges(1)
    # Release 1 sent nudges at claim time: they are marked delivered, not re-sent.
    assert (nudge.user_id, nudge.delivered_at, nudge.attempts) == ("carol", at(15), 0)
    assert await store.pending_nudges(3) == []
    assert await store.quiet_users("console") == {"dan"}


async def test_a_release_1_database_upgrades_to_head_keeping_its_data(db_url: str) -> None:
    await make_release_1_database(db_url)
    store = await open_store(db_url)
    try:
        assert await revision_of(store.engine) == head_revision() != "0001"
        await check_release_1_data(store)
        # And the chat carries on where release 1 left it: the failed Q2 is retried once,
        # Q3 follows on time, nothing already posted is posted again.
        h = await Harness(store, SimClock(at(21))).start()
        await h.run_until(at(61))
        assert h.port.questions() == ["Q2", "Q3"]
        assert [k for k in h.port.kinds() if k != "nudge"] == [
            "question",
            "question",
            "outro",
            "recap",
        ]
        recap = await h.recap()
        assert [m.text for m in recap.questions[0].answers] == ["A1 مرحبا from Leeds ☕"]
        assert recap.stats.reactions == 1
    finally:
        await store.close()


async def test_an_unversioned_release_1_database_is_stamped_then_upgraded(db_url: str) -> None:
    await make_release_1_database(db_url, versioned=False)
    store = await open_store(db_url)
    try:
        assert await revision_of(store.engine) == head_revision()
        await check_release_1_data(store)
    finally:
        await store.close()


def _differences(conn: sa.Connection) -> list[object]:
    return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


async def test_the_migrations_build_exactly_the_models_schema(db_url: str, db_url_factory) -> None:
    """Both paths (migrations step by step; create_all + stamp on an empty database) give the
    schema the models describe, so neither drifts from the code."""
    stepwise = create_engine_for(db_url)
    fresh = create_engine_for(db_url_factory())
    try:
        await upgrade(stepwise, "0001")
        await upgrade(stepwise)
        await upgrade(fresh)
        for engine in (stepwise, fresh):
            async with engine.connect() as conn:
                assert await conn.run_sync(_differences) == []
            assert await revision_of(engine) == head_revision()
    finally:
        await stepwise.dispose()
        await fresh.dispose()


async def test_downgrade_to_release_1_and_back(db_url: str) -> None:
    await make_release_1_database(db_url)
    engine = create_engine_for(db_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_to_0001)
        assert await revision_of(engine) == "0001"
        await upgrade(engine)
    finally:
        await engine.dispose()
    store = await open_store(db_url)
    try:
        await check_release_1_data(store)
    finally:
        await store.close()


def _downgrade_to_0001(conn: sa.Connection) -> None:
    from alembic import command

    from bot.core.store.migrate import alembic_config

    command.downgrade(alembic_config(conn), "0001")


async def test_workers_starting_together_migrate_once(db_url: str) -> None:
    stores = await asyncio.gather(*(open_store(db_url) for _ in range(4)))
    try:
        assert {await revision_of(s.engine) for s in stores} == {head_revision()}
        await stores[0].upsert_chat(CHAT)
        assert [c.id for c in await stores[3].chats()] == ["tea"]
    finally:
        for store in stores:
            await store.close()


def test_the_alembic_command_line_upgrades_and_reports(db_url: str) -> None:
    """For operators: alembic.ini at the top of the repository drives the same migrations."""

    def alembic(*args: str) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(ROOT / "alembic.ini"),
                "-x",
                f"url={db_url}",
                *args,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    alembic("upgrade", "0001")
    assert "0001" in alembic("current")
    alembic("upgrade", "head")
    assert f"{head_revision()} (head)" in alembic("current")
