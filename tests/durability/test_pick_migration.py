"""Schema 0004: a database that stored host picks as ``chathost:highlight`` reactions is
upgraded into picks, the recap reads the same, and the downgrade gives the reactions back."""

from __future__ import annotations

import sqlalchemy as sa

from bot.core.snapshot import load_run_view
from bot.core.store import open_store
from bot.core.store.database import PickRecord, create_engine_for
from bot.core.store.migrate import head_revision, revision_of, upgrade
from tests.durability.test_migrations import make_release_1_database, naive

# What releases up to schema 0003 stored for kate's /highlight of alice's answer (message 1).
HIGHLIGHT_REACTION = {
    "id": 2,
    "message_id": 1,
    "user_id": "kate",
    "user_name": "Kate",
    "emoji": "chathost:highlight",
    "created_at": naive(8),
}


async def make_0003_database_with_a_pick(url: str) -> None:
    await make_release_1_database(url)
    engine = create_engine_for(url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            meta = sa.MetaData()
            await conn.run_sync(meta.reflect, only=["reactions"])
            await conn.execute(meta.tables["reactions"].insert().values(**HIGHLIGHT_REACTION))
    finally:
        await engine.dispose()


async def reactions_in(url: str) -> list[tuple[str, str]]:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT user_id, emoji FROM reactions ORDER BY id"))
            return [(str(user), str(emoji)) for user, emoji in rows.all()]
    finally:
        await engine.dispose()


async def test_a_highlight_reaction_is_upgraded_into_a_pick(db_url: str) -> None:
    await make_0003_database_with_a_pick(db_url)
    store = await open_store(db_url)
    try:
        assert await revision_of(store.engine) == head_revision()
        assert await store.pick_records(1) == [PickRecord(1, "kate", "Kate")]
        # The reaction is gone; bob's thumbs-up is still there and still the only reaction.
        assert [(r.user_id, r.emoji) for r in await store.reactions_for_run(1)] == [("bob", "👍")]
        [answer] = (await load_run_view(store, 1)).messages
        assert answer.highlighted
        assert dict(answer.reactions) == {"👍": ("bob",)}
        # The pick is a pick like any made today: the same host takes it back.
        assert await store.remove_pick(1, "kate")
        [answer] = (await load_run_view(store, 1)).messages
        assert not answer.highlighted
    finally:
        await store.close()


async def test_the_downgrade_turns_picks_back_into_highlight_reactions(db_url: str) -> None:
    await make_0003_database_with_a_pick(db_url)
    engine = create_engine_for(db_url)
    try:
        await upgrade(engine)
        assert await reactions_in(db_url) == [("bob", "👍")]
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_to_0003)
        assert await revision_of(engine) == "0003"
    finally:
        await engine.dispose()
    assert await reactions_in(db_url) == [("bob", "👍"), ("kate", "chathost:highlight")]


def _downgrade_to_0003(conn: sa.Connection) -> None:
    from alembic import command

    from bot.core.store.migrate import alembic_config

    command.downgrade(alembic_config(conn), "0003")
