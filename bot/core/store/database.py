"""The Store: every read and write of chathost's state, for SQLite and PostgreSQL alike, and
``open_store``, which opens one and brings its schema up to date.

Writes that may be repeated (duplicate deliveries, retried steps, a second process) are
inserts guarded by unique constraints or compare-and-set updates, so repeating them is a no-op.
Each table's reads and writes are a module of their own (runs, posts, messages, reactions,
picks, nudges, people); ``Store`` combines them.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from bot.core.errors import DatabaseUnavailable
from bot.core.store.base import StoreError
from bot.core.store.engines import create_engine_for
from bot.core.store.messages import MessageRecord, MessagesMixin
from bot.core.store.nudges import NudgesMixin, PersonActivity
from bot.core.store.people import Forgotten, PeopleMixin
from bot.core.store.picks import PickRecord, PicksMixin
from bot.core.store.posts import PostClaim
from bot.core.store.reactions import ReactionRecord, ReactionsMixin
from bot.core.store.runs import RunsMixin
from bot.core.store.urls import shown_url
from bot.core.store.values import storable


class Store(RunsMixin, MessagesMixin, ReactionsMixin, PicksMixin, NudgesMixin, PeopleMixin):
    """The one object the core, the exports and the archive read and write through."""


async def open_store(url: str, *, create: bool = True) -> Store:
    """Open the database; with ``create`` (the default) upgrade its schema to the newest,
    else check that it answers and holds chathost's tables (``DatabaseUnavailable``)."""
    store = Store(create_engine_for(url, read_only=not create))
    try:
        if create:
            await store.migrate()
        else:
            await _check_chathost_data(store, url)
    except BaseException:
        await store.close()
        raise
    return store


async def _check_chathost_data(store: Store, url: str) -> None:
    try:
        async with store.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(f"cannot open the database {shown_url(url)}: {reason}") from exc
    if "runs" not in tables:
        raise DatabaseUnavailable(
            f"no chathost data in {shown_url(url)}: give --db the database `chathost run` or "
            "`chathost rehearse` wrote (rehearse prints it), or rehearse a chat first"
        )


__all__ = [
    "Forgotten",
    "MessageRecord",
    "PersonActivity",
    "PickRecord",
    "PostClaim",
    "ReactionRecord",
    "Store",
    "StoreError",
    "create_engine_for",
    "open_store",
    "storable",
]
