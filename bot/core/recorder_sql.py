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
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import chain, groupby
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.store import MessageRow, ParticipantRow, ReactionRow, storable

# SQLite allows 32,766 bound values per statement: 1,000 rows of 20 columns fit.
MAX_BATCH = 1000

messages_table = MessageRow.__table__  # type: ignore[attr-defined]
_participants = ParticipantRow.__table__  # type: ignore[attr-defined]
_reactions = ReactionRow.__table__  # type: ignore[attr-defined]

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
REACTION_COLUMNS = ("message_id", "user_id", "user_name", "emoji", "created_at")
_written = (
    (messages_table, MESSAGE_COLUMNS),
    (_participants, PARTICIPANT_COLUMNS),
    (_reactions, REACTION_COLUMNS),
)
for _table, _columns in _written:
    if {c.name for c in _table.c} - {"id"} != set(_columns):
        raise RuntimeError(f"bot/core/recorder_sql.py does not write every column of {_table.name}")

Key = tuple[str, str, str]  # (platform, channel id, platform message id), as stored
Row = tuple[Any, ...]
# What a write tells: the keys inserted (None: all of them) and the state of each run, read
# inside the write's transaction (the service refreshes a posted recap when a late answer
# lands in a summarised run; reading it there, no summary can slip in unseen).
# And for each reaction, the id of the run it changed (None: no such message, or no change).
Written = tuple[set[Key] | None, dict[int, str], list[int | None]]


class ReactionOp(NamedTuple):
    """A reaction added or taken back, with its values as stored (text made storable, the time
    as the driver binds it)."""

    platform: str
    channel_id: str
    message_id: str
    user_id: str
    user_name: str
    emoji: str
    at: Any
    added: bool


def storable_text(value: str) -> str:
    """``storable`` with a fast path: plain ASCII without NUL needs no scan."""
    if value.isascii() and "\x00" not in value:
        return value
    return storable(value)


def optional_text(value: str | None) -> str | None:
    return None if value is None else storable_text(value)


class _Writer(ABC):
    """What both dialects share: the order of a write (messages, their authors, reactions, the
    runs' states, all in one transaction) and the reactions' bookkeeping. Subclasses give the
    SQL and the driver's calls."""

    @abstractmethod
    async def _fetch(self, driver: Any, sql: str, args: Sequence[Any]) -> Sequence[Any]:
        """Run ``sql`` with positional ``args`` through the driver; the rows it returns."""

    @abstractmethod
    def _targets_sql(self, count: int) -> str:
        """Select (message id, row id, run id) of ``count`` messages of one channel."""

    @abstractmethod
    def _add_sql(self, rows: Sequence[Row]) -> tuple[str, Sequence[Any]]:
        """One statement adding these reaction rows, skipping those already there."""

    _remove_sql = ""

    async def _write(
        self, driver: Any, rows: Sequence[Row], runs: list[int], reactions: Sequence[ReactionOp]
    ) -> Written:
        inserted: set[Key] | None = None
        if rows:
            inserted = inserted_keys(rows, await self._insert(driver, rows))
            people = participant_rows(rows, inserted)
            if people:  # one statement, not one per person: one step of the database
                await self._upsert(driver, people)
        reacted = await self._react(driver, reactions) if reactions else []
        wanted = sorted({*runs, *(r for r in reacted if r is not None)})
        # Read inside the transaction (SQLite: under the write lock we hold; PostgreSQL: FOR
        # SHARE), so no transition can slip in before our commit.
        states = await self._states(driver, wanted)
        return inserted, {int(r[0]): str(r[1]) for r in states}, reacted

    @abstractmethod
    async def _insert(self, driver: Any, rows: Sequence[Row]) -> Sequence[Any]:
        """Insert message rows, skipping duplicates; the keys of those inserted."""

    @abstractmethod
    async def _upsert(self, driver: Any, people: Sequence[Row]) -> None:
        """Add the participants' counts and last times, once per person."""

    @abstractmethod
    async def _states(self, driver: Any, runs: list[int]) -> Sequence[Any]:
        """(id, state) of these runs, held against a transition until the commit."""

    async def _react(self, driver: Any, reactions: Sequence[ReactionOp]) -> list[int | None]:
        """Apply reactions in order, the adds of a stretch in one statement; each one's run
        if it changed something (a repeated add or a remove of nothing changes nothing)."""
        targets = await self._targets(driver, reactions)
        results: list[int | None] = []
        for added, stretch in groupby(reactions, key=lambda r: r.added):
            ops = list(stretch)
            found = [targets.get((r.platform, r.channel_id, r.message_id)) for r in ops]
            if added:
                results += await self._add(driver, ops, found)
            else:
                for op, target in zip(ops, found, strict=True):
                    gone = target is not None and await self._fetch(
                        driver, self._remove_sql, [target[0], op.user_id, op.emoji]
                    )
                    results.append(target[1] if gone and target is not None else None)
        return results

    async def _targets(
        self, driver: Any, reactions: Sequence[ReactionOp]
    ) -> dict[Key, tuple[int, int]]:
        """The stored messages reacted to: key -> (message row id, run id)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for r in reactions:
            wanted.setdefault((r.platform, r.channel_id), set()).add(r.message_id)
        found: dict[Key, tuple[int, int]] = {}
        for (platform, channel), ids in wanted.items():
            sql = self._targets_sql(len(ids))
            for message_id, row_id, run_id in await self._fetch(
                driver, sql, self._targets_args(platform, channel, sorted(ids))
            ):
                found[(platform, channel, message_id)] = (int(row_id), int(run_id))
        return found

    @abstractmethod
    def _targets_args(self, platform: str, channel: str, ids: list[str]) -> Sequence[Any]:
        """The arguments of ``_targets_sql``."""

    async def _add(
        self, driver: Any, ops: Sequence[ReactionOp], found: Sequence[tuple[int, int] | None]
    ) -> list[int | None]:
        rows = [
            (target[0], op.user_id, op.user_name, op.emoji, op.at)
            for op, target in zip(ops, found, strict=True)
            if target is not None
        ]
        if not rows:
            return [None] * len(ops)
        sql, args = self._add_sql(rows)
        new = {(int(r[0]), r[1], r[2]) for r in await self._fetch(driver, sql, args)}
        results: list[int | None] = []
        for op, target in zip(ops, found, strict=True):
            key = (target[0], op.user_id, op.emoji) if target is not None else None
            results.append(target[1] if target is not None and key in new else None)
            new.discard(key)  # type: ignore[arg-type]  # the same add twice: the first counts
        return results


_RETURN_KEYS = " ON CONFLICT DO NOTHING RETURNING id, platform, channel_id, platform_message_id"
_RETURN_REACTIONS = " ON CONFLICT DO NOTHING RETURNING message_id, user_id, emoji"
_TARGETS = (
    "SELECT platform_message_id, id, run_id FROM messages"
    " WHERE platform = {0} AND channel_id = {1} AND platform_message_id {2}"
)
_REMOVE = "DELETE FROM reactions WHERE message_id = {0} AND user_id = {1} AND emoji = {2}"


class SqliteWriter(_Writer):
    """Multi-row INSERT .. RETURNING through the aiosqlite connection, in one transaction (the
    driver begins it at the first INSERT; we commit or roll back)."""

    def __init__(self) -> None:
        names = ", ".join(MESSAGE_COLUMNS)
        self._head = f"INSERT INTO messages ({names}) VALUES "
        self._marks = _marks(len(MESSAGE_COLUMNS))
        people = ", ".join(PARTICIPANT_COLUMNS)
        self._people_head = f"INSERT INTO participants ({people}) VALUES "
        self._people_marks = _marks(len(PARTICIPANT_COLUMNS))
        self._people_tail = (
            " ON CONFLICT (run_id, user_id) DO UPDATE SET"
            " messages = participants.messages + excluded.messages,"
            " last_at = max(participants.last_at, excluded.last_at)"
        )
        self._add_head = f"INSERT INTO reactions ({', '.join(REACTION_COLUMNS)}) VALUES "
        self._add_marks = _marks(len(REACTION_COLUMNS))
        self._remove_sql = _REMOVE.format("?", "?", "?") + " RETURNING id"

    async def write(
        self,
        conn: AsyncConnection,
        rows: Sequence[Row],
        runs: list[int],
        reactions: Sequence[ReactionOp] = (),
    ) -> Written:
        """Store ``rows``, count their authors and apply ``reactions``, in one transaction."""
        driver = (await conn.get_raw_connection()).driver_connection
        try:
            written = await self._write(driver, rows, runs, reactions)
            await driver.commit()
        except BaseException:
            await asyncio.shield(driver.rollback())
            raise
        return written

    async def _fetch(self, driver: Any, sql: str, args: Sequence[Any]) -> Sequence[Any]:
        return await driver.execute_fetchall(sql, list(args))

    async def _insert(self, driver: Any, rows: Sequence[Row]) -> Sequence[Any]:
        sql = self._head + ", ".join([self._marks] * len(rows)) + _RETURN_KEYS
        return await self._fetch(driver, sql, list(chain.from_iterable(rows)))

    async def _upsert(self, driver: Any, people: Sequence[Row]) -> None:
        marks = ", ".join([self._people_marks] * len(people))
        sql = self._people_head + marks + self._people_tail
        await driver.execute(sql, list(chain.from_iterable(people)))

    async def _states(self, driver: Any, runs: list[int]) -> Sequence[Any]:
        marks = ", ".join("?" * len(runs))
        return await self._fetch(driver, f"SELECT id, state FROM runs WHERE id IN ({marks})", runs)

    def _targets_sql(self, count: int) -> str:
        return _TARGETS.format("?", "?", f"IN ({', '.join('?' * count)})")

    def _targets_args(self, platform: str, channel: str, ids: list[str]) -> Sequence[Any]:
        return [platform, channel, *ids]

    def _add_sql(self, rows: Sequence[Row]) -> tuple[str, Sequence[Any]]:
        marks = ", ".join([self._add_marks] * len(rows))
        return self._add_head + marks + _RETURN_REACTIONS, list(chain.from_iterable(rows))


class PostgresWriter(_Writer):
    """``INSERT .. SELECT FROM unnest(arrays)``: one round trip however many rows (asyncpg),
    in an asyncpg transaction of its own."""

    def __init__(self, dialect: Any) -> None:
        def arrays(table: Any, columns: Sequence[str]) -> str:
            types = [table.c[name].type.compile(dialect=dialect) for name in columns]
            return ", ".join(f"${i}::{t}[]" for i, t in enumerate(types, 1))

        names = ", ".join(MESSAGE_COLUMNS)
        numbered = ", ".join(f"c{i}" for i in range(len(MESSAGE_COLUMNS)))
        self._insert_sql = (
            f"INSERT INTO messages ({names})"
            f" SELECT {numbered} FROM unnest({arrays(messages_table, MESSAGE_COLUMNS)})"
            f" WITH ORDINALITY AS u({numbered}, n) ORDER BY n" + _RETURN_KEYS
        )
        people = ", ".join(PARTICIPANT_COLUMNS)
        self._upsert_sql = (
            f"INSERT INTO participants ({people})"
            f" SELECT * FROM unnest({arrays(_participants, PARTICIPANT_COLUMNS)})"
            " ON CONFLICT (run_id, user_id) DO UPDATE SET"
            " messages = participants.messages + excluded.messages,"
            " last_at = GREATEST(participants.last_at, excluded.last_at)"
        )
        self._add_sql_text = (
            f"INSERT INTO reactions ({', '.join(REACTION_COLUMNS)})"
            f" SELECT * FROM unnest({arrays(_reactions, REACTION_COLUMNS)})" + _RETURN_REACTIONS
        )
        self._remove_sql = _REMOVE.format("$1", "$2", "$3") + " RETURNING id"
        self._states_sql = "SELECT id, state FROM runs WHERE id = ANY($1::int[]) FOR SHARE"

    async def write(
        self,
        conn: AsyncConnection,
        rows: Sequence[Row],
        runs: list[int],
        reactions: Sequence[ReactionOp] = (),
    ) -> Written:
        """Store ``rows``, count their authors and apply ``reactions``, in one transaction."""
        driver = (await conn.get_raw_connection()).driver_connection
        async with driver.transaction():
            return await self._write(driver, rows, runs, reactions)

    async def _fetch(self, driver: Any, sql: str, args: Sequence[Any]) -> Sequence[Any]:
        return await driver.fetch(sql, *args)

    async def _insert(self, driver: Any, rows: Sequence[Row]) -> Sequence[Any]:
        return await driver.fetch(self._insert_sql, *zip(*rows, strict=True))

    async def _upsert(self, driver: Any, people: Sequence[Row]) -> None:
        await driver.execute(self._upsert_sql, *zip(*people, strict=True))

    async def _states(self, driver: Any, runs: list[int]) -> Sequence[Any]:
        # FOR SHARE holds off a transition of these runs until we commit.
        return await self._fetch(driver, self._states_sql, [runs])

    def _targets_sql(self, count: int) -> str:
        return _TARGETS.format("$1", "$2", "= ANY($3::varchar[])")

    def _targets_args(self, platform: str, channel: str, ids: list[str]) -> Sequence[Any]:
        return [platform, channel, ids]

    def _add_sql(self, rows: Sequence[Row]) -> tuple[str, Sequence[Any]]:
        return self._add_sql_text, list(zip(*rows, strict=True))


def _marks(count: int) -> str:
    return "(" + ", ".join("?" * count) + ")"


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
