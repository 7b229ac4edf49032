"""The SQL of group commit: many message rows and their authors in one statement each.

Why by hand, through the driver: SQLAlchemy's per-value work costs more than the database's
for a thousand rows. SQLite gets one multi-row ``INSERT .. ON CONFLICT DO NOTHING RETURNING``
(duplicates, by the unique platform message id, are skipped and reported); PostgreSQL one
``INSERT .. SELECT FROM unnest(arrays)``, one round trip however many rows. The participants'
counts and last times are upserted once per person. The columns are checked against the
tables at import, so a column added to the schema cannot be silently left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.store import MessageRow, ParticipantRow, storable

# SQLite allows 32,766 bound values per statement: 1,000 rows of 20 columns fit.
MAX_BATCH = 1000

messages_table = MessageRow.__table__  # type: ignore[attr-defined]
_participants = ParticipantRow.__table__  # type: ignore[attr-defined]

# The columns written, in the order of the row tuples below. Checked against the tables at
# import, so a column added to the schema cannot be silently left out of batched writes.
MESSAGE_COLUMNS = (
    "run_id",
    "platform",
    "channel_id",
    "platform_message_id",
    "user_id",
    "user_name",
    "text",
    "original_text",
    "kind",
    "question_id",
    "reason",
    "fallback_question",
    "thread_question",
    "thread_id",
    "reply_to",
    "created_at",
    "received_at",
    "edited_at",
    "edit_count",
    "deleted_at",
)
PARTICIPANT_COLUMNS = (
    "run_id",
    "user_id",
    "user_name",
    "is_host",
    "first_at",
    "last_at",
    "messages",
)
for _table, _columns in ((messages_table, MESSAGE_COLUMNS), (_participants, PARTICIPANT_COLUMNS)):
    if {c.name for c in _table.c} - {"id"} != set(_columns):
        raise RuntimeError(f"bot/core/recorder_sql.py does not write every column of {_table.name}")

Key = tuple[str, str, str]  # (platform, channel id, platform message id), as stored
Row = tuple[Any, ...]
# What a write tells: the keys inserted (None: all of them) and the state of each run, read
# inside the write's transaction (the service refreshes a posted recap when a late answer
# lands in a summarised run; reading it there, no summary can slip in unseen).
Written = tuple[set[Key] | None, dict[int, str]]


def storable_text(value: str) -> str:
    """``storable`` with a fast path: plain ASCII without NUL needs no scan."""
    if value.isascii() and "\x00" not in value:
        return value
    return storable(value)


def optional_text(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


class SqliteWriter:
    """Multi-row INSERT .. RETURNING, then executemany, through the aiosqlite connection, in
    one transaction (the driver begins it at the first INSERT; we commit or roll back)."""

    def __init__(self) -> None:
        names = ", ".join(MESSAGE_COLUMNS)
        self._head = f"INSERT INTO messages ({names}) VALUES "
        self._marks = "(" + ", ".join("?" * len(MESSAGE_COLUMNS)) + ")"
        self._tail = (
            " ON CONFLICT DO NOTHING RETURNING id, platform, channel_id, platform_message_id"
        )
        people = ", ".join(PARTICIPANT_COLUMNS)
        self._people_head = f"INSERT INTO participants ({people}) VALUES "
        self._people_marks = "(" + ", ".join("?" * len(PARTICIPANT_COLUMNS)) + ")"
        self._people_tail = (
            " ON CONFLICT (run_id, user_id) DO UPDATE SET"
            " messages = participants.messages + excluded.messages,"
            " last_at = max(participants.last_at, excluded.last_at)"
        )

    async def write(self, conn: AsyncConnection, rows: Sequence[Row], runs: list[int]) -> Written:
        """Store ``rows`` and count their authors; the keys inserted and the runs' states."""
        driver = (await conn.get_raw_connection()).driver_connection
        sql = self._head + ", ".join([self._marks] * len(rows)) + self._tail
        try:
            found = await driver.execute_fetchall(sql, list(chain.from_iterable(rows)))
            inserted = inserted_keys(rows, found)
            people = participant_rows(rows, inserted)
            if people:  # one statement, not one per person: one step of the database
                marks = ", ".join([self._people_marks] * len(people))
                sql = self._people_head + marks + self._people_tail
                await driver.execute(sql, list(chain.from_iterable(people)))
            # Read under the write lock we hold: no transition can slip in before our commit.
            marks = ", ".join("?" * len(runs))
            states = await driver.execute_fetchall(
                f"SELECT id, state FROM runs WHERE id IN ({marks})", runs
            )
            await driver.commit()
        except BaseException:
            await asyncio.shield(driver.rollback())
            raise
        return inserted, {int(i): str(state) for i, state in states}


class PostgresWriter:
    """``INSERT .. SELECT FROM unnest(arrays)``: one round trip however many rows (asyncpg),
    in an asyncpg transaction of its own."""

    def __init__(self, dialect: Any) -> None:
        def arrays(table: Any, columns: Sequence[str]) -> str:
            types = [table.c[name].type.compile(dialect=dialect) for name in columns]
            return ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1))

        names = ", ".join(MESSAGE_COLUMNS)
        numbered = ", ".join(f"c{i}" for i in range(len(MESSAGE_COLUMNS)))
        self._insert = (
            f"INSERT INTO messages ({names})"
            f" SELECT {numbered} FROM unnest({arrays(messages_table, MESSAGE_COLUMNS)})"
            f" WITH ORDINALITY AS u({numbered}, n) ORDER BY n"
            " ON CONFLICT DO NOTHING RETURNING id, platform, channel_id, platform_message_id"
        )
        people = ", ".join(PARTICIPANT_COLUMNS)
        self._upsert = (
            f"INSERT INTO participants ({people})"
            f" SELECT * FROM unnest({arrays(_participants, PARTICIPANT_COLUMNS)})"
            " ON CONFLICT (run_id, user_id) DO UPDATE SET"
            " messages = participants.messages + excluded.messages,"
            " last_at = GREATEST(participants.last_at, excluded.last_at)"
        )
        self._states = "SELECT id, state FROM runs WHERE id = ANY($1::int[]) FOR SHARE"

    async def write(self, conn: AsyncConnection, rows: Sequence[Row], runs: list[int]) -> Written:
        """Store ``rows`` and count their authors; the keys inserted and the runs' states."""
        driver = (await conn.get_raw_connection()).driver_connection
        async with driver.transaction():
            found = await driver.fetch(self._insert, *zip(*rows, strict=True))
            inserted = inserted_keys(rows, found)
            people = participant_rows(rows, inserted)
            if people:
                await driver.execute(self._upsert, *zip(*people, strict=True))
            # FOR SHARE holds off a transition of these runs until we commit.
            states = await driver.fetch(self._states, runs)
        return inserted, {int(r[0]): str(r[1]) for r in states}


def time_converter(dialect: Any) -> Callable[[datetime], Any]:
    """Aware datetime -> the value the driver binds, as the column type converts it (naive
    UTC; SQLite's text form), with a C-speed path for UTC values that is checked against the
    column type's own conversion before it is used."""
    exact: Callable[[datetime], Any] = messages_table.c.created_at.type.dialect_impl(
        dialect
    ).bind_processor(dialect) or (lambda value: value)
    if dialect.name == "sqlite":

        def fast(value: datetime) -> Any:
            if value.tzinfo is UTC:
                return value.replace(tzinfo=None).isoformat(" ", "microseconds")
            return exact(value)

    else:

        def fast(value: datetime) -> Any:
            return value.replace(tzinfo=None) if value.tzinfo is UTC else exact(value)

    samples = [datetime(2026, 12, 1, 19, 30, tzinfo=UTC), datetime(1999, 3, 4, 5, 6, 7, 89, UTC)]
    return fast if all(fast(s) == exact(s) for s in samples) else exact


def inserted_keys(rows: Sequence[Row], returned: Sequence[Any]) -> set[Key] | None:
    """The keys of the rows the INSERT returned; None when it returned every row (the rows
    of a batch have distinct keys), which spares building the set in the common case."""
    if len(returned) == len(rows):
        return None
    return {(r[1], r[2], r[3]) for r in returned}


def participant_rows(rows: Sequence[Row], inserted: set[Key] | None) -> list[Row]:
    """One upsert per (run, person) for the rows actually inserted, equal to upserting them
    one by one: the first message sets name, host flag and first time; counts add up; the
    last time is the latest. Sorted so two processes lock participants in the same order."""
    people: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        if inserted is not None and (row[1], row[2], row[3]) not in inserted:
            continue
        who = (row[0], row[4])
        person = people.get(who)
        if person is None:
            # run_id, user_id, user_name, is_host, first_at, last_at, messages
            people[who] = [row[0], row[4], row[5], row[8] == "host", row[15], row[15], 1]
        else:
            person[6] += 1
            person[5] = max(person[5], row[15])
    return [tuple(people[k]) for k in sorted(people)]
