"""Group commit for incoming messages: many replies, one transaction, same answers.

Why: a busy chat delivers hundreds of replies a second, and storing each one in its own
transaction (several queries, one commit, one thread hop per query) tops out near a hundred
messages a second on SQLite. The batcher collects the messages that arrive while the previous
batch is being written (or within ``max_wait``, up to ``max_batch``) and stores them together:

- the live runs are read once per batch, and re-parsed only when a run changed (a cheap
  ``id, version`` read guards the cache, so another process's transition is seen at once);
- a question's thread is looked up once and remembered (a posted question never moves);
- reply parents are looked up in one query; a reply to a message earlier in the same batch
  inherits that message's question, exactly as if the two had been stored one by one;
- messages go in with one multi-row ``INSERT .. ON CONFLICT DO NOTHING RETURNING`` through
  the driver (no per-value work in SQLAlchemy), so duplicates (the unique platform message id)
  are still ignored; the participants' counts and last times are upserted once per person;
- every caller awaits the commit of its own batch: a message is stored before it is
  acknowledged, as on the one-by-one path.

A batch that fails for a lasting reason (not a database outage) is split and retried one by
one, so one bad message cannot sink its neighbours; an outage fails the whole batch and each
caller's retry (see ``Intake.handle``) submits its message again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import configure_mappers

from bot.core.attribution import Attributor, Context
from bot.core.events import IncomingMessage
from bot.core.plan import Chat, chat_from_json
from bot.core.run_states import LIVE, OPEN, RunState
from bot.core.run_window import MAX_LATE_WINDOW, accepts, in_channel
from bot.core.store import MessageRow, ParticipantRow, PostRow, RunRow, Store, is_transient
from bot.core.store.database import storable

log = logging.getLogger("chathost.ingest")

# SQLite allows 32,766 bound values per statement: 1,000 rows of 20 columns fit.
MAX_BATCH = 1000
# Positive thread -> question answers remembered; cleared wholesale past this size.
CACHE_SIZE = 50_000

_messages = MessageRow.__table__  # type: ignore[attr-defined]
_participants = ParticipantRow.__table__  # type: ignore[attr-defined]
_runs = RunRow.__table__  # type: ignore[attr-defined]
_posts = PostRow.__table__  # type: ignore[attr-defined]

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
for _table, _columns in ((_messages, MESSAGE_COLUMNS), (_participants, PARTICIPANT_COLUMNS)):
    if {c.name for c in _table.c} - {"id"} != set(_columns):
        raise RuntimeError(f"bot/core/ingest.py does not write every column of {_table.name}")

Key = tuple[str, str, str]  # (platform, channel id, platform message id), as stored
Row = tuple[Any, ...]
# What a write tells: the keys inserted (None: all of them) and the state of each run, read
# inside the write's transaction (the service refreshes a posted recap when a late answer
# lands in a summarised run; reading it there, no summary can slip in unseen).
Written = tuple[set[Key] | None, dict[int, str]]


def _storable(value: str) -> str:
    """``storable`` with a fast path: plain ASCII without NUL needs no scan."""
    if value.isascii() and "\x00" not in value:
        return value
    return storable(value)


def _opt(value: str | None) -> str | None:
    return None if value is None else _storable(value)


def choose_run(candidates: Iterable[RunRow], at: datetime) -> RunRow | None:
    """The run a message at ``at`` belongs to among a channel's runs: a live run wins over a
    pre-chat or late one, then the latest start (the rule of ``Intake.run_for``)."""
    taking = [r for r in candidates if accepts(r, chat_from_json(r.plan_json), at)]
    taking.sort(key=lambda r: (r.state not in LIVE, -r.scheduled_start.timestamp()))
    return taking[0] if taking else None


@dataclass
class _Item:
    event: IncomingMessage
    future: asyncio.Future[int | None]


class _LiveRuns:
    """The live runs, re-read only when one changed: ``version`` bumps on every transition,
    so the set of ``(id, version)`` pairs says exactly when the parsed copies are stale."""

    def __init__(self) -> None:
        configure_mappers()  # RunRow copies are built directly, before any ORM query ran
        self.runs: dict[int, RunRow] = {}
        self._stamp: frozenset[tuple[int, int]] = frozenset()
        self._by_channel: dict[tuple[str, str, str], tuple[RunRow | None, list[RunRow]]] = {}
        live = _runs.c.state.in_(OPEN) | (
            (_runs.c.state == RunState.SUMMARISED) & (_runs.c.ended_at >= bindparam("since"))
        )
        self._stamp_stmt = select(_runs.c.id, _runs.c.version).where(live)
        self._load_stmt = select(_runs).where(_runs.c.id.in_(bindparam("ids", expanding=True)))

    async def refresh(self, conn: AsyncConnection, since: datetime) -> None:
        rows = (await conn.execute(self._stamp_stmt, {"since": since})).all()
        stamp = frozenset((int(r[0]), int(r[1])) for r in rows)
        if stamp == self._stamp:
            return
        fresh = {i: run for i, v in stamp if (run := self.runs.get(i)) and run.version == v}
        stale = [i for i, _ in stamp if i not in fresh]
        if stale:
            found = await conn.execute(self._load_stmt, {"ids": stale})
            for row in found.mappings():
                fresh[int(row["id"])] = RunRow.model_construct(**row)
        self.runs = fresh
        self._stamp = stamp
        self._by_channel.clear()

    def choose(self, event: IncomingMessage) -> RunRow | None:
        """``choose_run`` over the event's channel; when the channel has a live run the
        answer does not depend on the time, so it is worked out once per channel."""
        key = (event.platform, event.channel.id, event.channel.name)
        found = self._by_channel.get(key)
        if found is None:
            candidates = [
                r
                for r in sorted(self.runs.values(), key=lambda r: (r.scheduled_start, r.id or 0))
                if r.platform == event.platform and in_channel(r, event.channel)
            ]
            live = [r for r in candidates if r.state in LIVE]
            live.sort(key=lambda r: -r.scheduled_start.timestamp())
            found = self._by_channel[key] = (live[0] if live else None, candidates)
        fixed, candidates = found
        return fixed if fixed is not None else choose_run(candidates, event.at)


class _SqliteWriter:
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
            inserted = _inserted(rows, found)
            people = _participant_rows(rows, inserted)
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


class _PostgresWriter:
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
            f" SELECT {numbered} FROM unnest({arrays(_messages, MESSAGE_COLUMNS)})"
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
            inserted = _inserted(rows, found)
            people = _participant_rows(rows, inserted)
            if people:
                await driver.execute(self._upsert, *zip(*people, strict=True))
            # FOR SHARE holds off a transition of these runs until we commit.
            states = await driver.fetch(self._states, runs)
        return inserted, {int(r[0]): str(r[1]) for r in states}


@dataclass
class _Prepared:
    """A batch decided in memory: each event's run and key (None: not stored) and the rows."""

    items: list[_Item]
    run_ids: list[int | None]
    keys: list[Key | None]
    rows: list[Row]
    questions: dict[Key, str | None]  # the question of each row, for replies in later batches


@dataclass(frozen=True)
class _RunFacts:
    """What attribution reads of a run, taken once per batch (not per message)."""

    id: int
    chat: Chat
    thread_id: str | None
    open_question: str | None
    ended: bool


class IngestBatcher:
    """Stores incoming messages in batches; ``submit`` returns once its batch is committed.

    Two stages overlap: while one batch is written and committed (in the database's thread
    or server), the next one is attributed. A batch attributed while another is in flight
    sees that one's messages as if stored (a reply to one of them inherits its question); if
    the batch in flight fails, the next one is attributed again from scratch.
    """

    def __init__(self, store: Store, *, max_batch: int = MAX_BATCH, max_wait: float = 0.0) -> None:
        self.store = store
        self.max_batch = max(1, min(max_batch, MAX_BATCH))
        self.max_wait = max_wait
        # State of each run as read right after the last commit that touched it (the service
        # refreshes a posted recap when a late answer lands in a summarised run).
        self.states: dict[int, str] = {}
        self.batches = 0  # counters for benchmarks and logs
        self.messages = 0
        self._pending: list[_Item] = []
        self._drainer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._live = _LiveRuns()
        self._in_flight: dict[Key, str | None] = {}
        self._threads: dict[tuple[int, str], str] = {}
        self._hosts: dict[tuple[str, str, str, str], bool] = {}
        dialect = store.engine.dialect
        self._writer = (
            _PostgresWriter(dialect) if store.dialect == "postgresql" else _SqliteWriter()
        )
        self._when = _time_converter(dialect)
        # Reads only: on PostgreSQL AUTOCOMMIT spares the BEGIN/ROLLBACK round trips around
        # them. SQLite's driver begins no transaction for a SELECT anyway, and switching the
        # isolation level there costs two thread hops per batch.
        self._autocommit_reads = store.dialect == "postgresql"
        self._parents_stmt: Any = select(
            _messages.c.platform_message_id, _messages.c.question_id
        ).where(
            _messages.c.platform == bindparam("platform"),
            _messages.c.channel_id == bindparam("channel"),
            _messages.c.platform_message_id.in_(bindparam("ids", expanding=True)),
        )
        if store.dialect == "postgresql":
            # One index probe per id. PostgreSQL plans ``id IN (...)`` as a scan of the whole
            # channel with a filter while the table's statistics are young (the first minutes
            # of a busy chat): 5+ ms at 30,000 messages, growing with every message.
            self._parents_stmt = text(
                "SELECT k.id, m.question_id FROM unnest(CAST(:ids AS VARCHAR[])) AS k(id)"
                " CROSS JOIN LATERAL (SELECT question_id FROM messages WHERE platform = :platform"
                " AND channel_id = :channel AND platform_message_id = k.id LIMIT 1) AS m"
            )
        self._threads_stmt = (
            select(_posts.c.run_id, _posts.c.question_id, _posts.c.thread_id, _posts.c.message_id)
            .where(
                _posts.c.kind == "question",
                _posts.c.run_id.in_(bindparam("runs", expanding=True)),
                _posts.c.thread_id.in_(bindparam("threads", expanding=True))
                | _posts.c.message_id.in_(bindparam("threads2", expanding=True)),
            )
            .order_by(_posts.c.id)
        )

    def submit(self, event: IncomingMessage) -> asyncio.Future[int | None]:
        """Queue ``event`` for its batch; the future gives, once the batch is committed, the
        id of its run, or None (no run, or duplicate).

        A plain function returning the future rather than a coroutine: one coroutine less
        per message on the busiest path. ``await batcher.submit(event)`` reads the same.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int | None] = loop.create_future()
        if event.user.is_bot:
            future.set_result(None)
            return future
        self._pending.append(_Item(event, future))
        if len(self._pending) >= self.max_batch:
            self._wake.set()
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return future

    # the pipeline

    async def _drain(self) -> None:
        writing: asyncio.Task[list[int | None] | None] | None = None
        written: list[_Item] = []  # the callers of the batch ``writing`` stores
        batch: list[_Item] = []
        try:
            while self._pending or writing is not None:
                ready: _Prepared | None = None
                error: Exception | None = None
                if not self._pending:
                    await asyncio.sleep(0)  # callers just answered queue their next messages
                if self._pending:
                    await self._gather()
                    batch = self._pending[: self.max_batch]
                    del self._pending[: self.max_batch]
                    try:
                        ready = await self._prepare(batch)
                    except Exception as exc:
                        error = exc
                finished: tuple[list[_Item], list[int | None]] | None = None
                if writing is not None:
                    results = await writing
                    writing = None
                    if results is None:  # what ``ready`` assumed about the batch is void
                        self._in_flight = {}
                        if ready is not None:
                            self._pending[:0] = batch
                            batch = []
                            continue
                    else:
                        finished = (written, results)
                if ready is not None and error is None:
                    self._in_flight = ready.questions
                    writing = asyncio.create_task(self._store_guarded(ready))
                    written = ready.items
                if finished is not None:
                    # Answered once the next write is under way: the callers' wake-ups (a
                    # thousand tasks) then run while the database works, not before it starts.
                    self._answer(*finished)
                if error is not None:
                    await self._fall_back(batch, error)
                batch = []
        except BaseException:
            if writing is not None:
                writing.cancel()
            for item in [*written, *batch, *self._pending]:
                if not item.future.done():
                    item.future.cancel()
            self._pending.clear()
            raise
        finally:
            self._in_flight = {}
            self._drainer = None

    async def _gather(self) -> None:
        """Give messages arriving together a moment to join the batch."""
        if self.max_wait > 0 and len(self._pending) < self.max_batch:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.max_wait)
        else:
            await asyncio.sleep(0)  # producers woken in this pass of the loop join in

    async def _store_guarded(self, ready: _Prepared) -> list[int | None] | None:
        """Store a prepared batch; its results for ``_answer``, or None if it failed (then
        its callers have had their answers from ``_fall_back``)."""
        try:
            return await self._store(ready)
        except Exception as exc:
            self._in_flight = {}
            await self._fall_back(ready.items, exc)
            return None

    async def _fall_back(self, items: list[_Item], exc: Exception) -> None:
        """An outage fails every caller (each one retries); any other error is isolated by
        storing the messages one by one."""
        if len(items) == 1 or is_transient(exc):
            for item in items:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        for item in items:
            try:
                results = await self._write([item.event])
            except Exception as single:
                if not item.future.done():
                    item.future.set_exception(single)
            else:
                self._answer([item], results)

    def _answer(self, items: list[_Item], results: list[int | None]) -> None:
        self.batches += 1
        self.messages += len(items)
        for item, result in zip(items, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _write(self, events: Sequence[IncomingMessage]) -> list[int | None]:
        """Attribute and store ``events`` in one go, with nothing else in flight."""
        items = [_Item(e, asyncio.get_running_loop().create_future()) for e in events]
        return await self._store(await self._prepare(items))

    # stage 1: decide

    async def _prepare(self, items: list[_Item]) -> _Prepared:
        """Attribute the batch in arrival order (reads only: runs, threads, reply parents)."""
        events = [item.event for item in items]
        since = min(e.at for e in events) - MAX_LATE_WINDOW
        async with self.store.engine.connect() as conn:
            if self._autocommit_reads:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await self._live.refresh(conn, since)
            runs = [self._live.choose(e) for e in events]
            threads = await self._thread_questions(conn, events, runs)
            parents = await self._parents(conn, events, runs)
        rows, keys, run_ids, questions = self._attribute(events, runs, threads, parents)
        return _Prepared(items, run_ids, keys, rows, questions)

    # stage 2: store

    async def _store(self, ready: _Prepared) -> list[int | None]:
        """Insert the rows and upsert the participants in one transaction; each event's run
        id (None when not stored: no run takes it, or a duplicate)."""
        if not ready.rows:
            return [None] * len(ready.items)
        runs = sorted({r for r in ready.run_ids if r is not None})
        async with self.store.engine.connect() as conn:
            inserted, states = await self._writer.write(conn, ready.rows, runs)
        self.states.update(states)
        return [
            run_id if key is not None and (inserted is None or key in inserted) else None
            for key, run_id in zip(ready.keys, ready.run_ids, strict=True)
        ]

    async def _thread_questions(
        self, conn: AsyncConnection, events: Sequence[IncomingMessage], runs: list[RunRow | None]
    ) -> dict[tuple[int, str], str]:
        wanted: set[tuple[int, str]] = set()
        for event, run in zip(events, runs, strict=True):
            if run is not None and event.thread_id and event.thread_id != run.thread_id:
                key = (run.id or 0, event.thread_id)
                if key not in self._threads:
                    wanted.add(key)
        if wanted:
            if len(self._threads) > CACHE_SIZE:
                self._threads.clear()
            ids = sorted({t for _, t in wanted})
            params = {"runs": sorted({r for r, _ in wanted}), "threads": ids, "threads2": ids}
            for run_id, question_id, thread_id, message_id in await conn.execute(
                self._threads_stmt, params
            ):
                for tid in (thread_id, message_id):
                    key = (int(run_id), tid)
                    if key in wanted and key not in self._threads and question_id is not None:
                        self._threads[key] = question_id
        return self._threads

    async def _parents(
        self, conn: AsyncConnection, events: Sequence[IncomingMessage], runs: list[RunRow | None]
    ) -> dict[Key, str | None]:
        """Stored messages that batch members reply to: their questions."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for event, run in zip(events, runs, strict=True):
            if run is not None and event.reply_to:
                channel = (event.platform, _storable(event.channel.id))
                wanted.setdefault(channel, set()).add(_storable(event.reply_to))
        found: dict[Key, str | None] = {}
        for (platform, channel), ids in wanted.items():
            params = {"platform": platform, "channel": channel, "ids": sorted(ids)}
            for message_id, question_id in await conn.execute(self._parents_stmt, params):
                found[(platform, channel, message_id)] = question_id
        return found

    def _is_host(self, chat: Chat, event: IncomingMessage) -> bool:
        """As ``Intake.on_message`` decides it (``Chat.hosted_by``), remembered per person."""
        user = event.user
        if user.is_host_hint:
            return True
        key = (chat.id, user.id, user.name, user.display, user.roles)
        known = self._hosts.get(key)
        if known is None:
            if len(self._hosts) > CACHE_SIZE:
                self._hosts.clear()
            known = self._hosts[key] = chat.hosted_by(user)
        return known

    def _attribute(
        self,
        events: Sequence[IncomingMessage],
        runs: list[RunRow | None],
        threads: dict[tuple[int, str], str],
        parents: dict[Key, str | None],
    ) -> tuple[list[Row], list[Key | None], list[int | None], dict[Key, str | None]]:
        """Rows to insert, each event's key (None: not stored) and each row's question,
        decided in arrival order so a reply sees the question of a message before it: one
        stored earlier, then one in the batch in flight, then one earlier in this batch."""
        rows: list[Row] = []
        keys: list[Key | None] = []
        run_ids: list[int | None] = []
        batch: dict[Key, str | None] = {}
        in_flight = self._in_flight
        facts: dict[int, _RunFacts] = {}
        contexts: dict[tuple[int, str | None, str | None], Attributor] = {}
        when = self._when
        for event, run in zip(events, runs, strict=True):
            if run is None:
                keys.append(None)
                run_ids.append(None)
                continue
            channel_id = _storable(event.channel.id)
            key = (event.platform, channel_id, _storable(event.message_id))
            if key in batch:  # the same delivery twice in one batch: the first one counts
                keys.append(None)
                run_ids.append(None)
                continue
            fact = facts.get(id(run))
            if fact is None:
                fact = facts[id(run)] = _facts(run)
            thread_question = None
            if event.thread_id and event.thread_id != fact.thread_id:
                thread_question = threads.get((fact.id, event.thread_id))
            reply_question = None
            if event.reply_to:
                parent = (event.platform, channel_id, _storable(event.reply_to))
                if parent in parents:
                    reply_question = parents[parent]
                else:
                    reply_question = in_flight.get(parent, batch.get(parent))
            shape = (id(run), thread_question, reply_question)
            attributor = contexts.get(shape)
            if attributor is None:
                ctx = Context(
                    question_ids=fact.chat.question_ids,
                    thread_question=thread_question,
                    reply_question=reply_question,
                    open_question=fact.open_question,
                    ended=fact.ended,
                )
                attributor = contexts[shape] = Attributor(ctx)
            result = attributor(event.text)
            at = when(event.at)
            batch[key] = result.question_id
            keys.append(key)
            run_ids.append(fact.id)
            rows.append(
                (
                    fact.id,
                    key[0],
                    channel_id,
                    key[2],
                    _storable(event.user.id),
                    _storable(event.user.label),
                    _storable(event.text),
                    None,
                    "host" if self._is_host(fact.chat, event) else "answer",
                    result.question_id,
                    result.reason,
                    attributor.fallback.question_id,
                    thread_question,
                    _opt(event.thread_id),
                    _opt(event.reply_to),
                    at,
                    at,
                    None,
                    0,
                    None,
                )
            )
        return rows, keys, run_ids, batch


def _time_converter(dialect: Any) -> Callable[[datetime], Any]:
    """Aware datetime -> the value the driver binds, as the column type converts it (naive
    UTC; SQLite's text form), with a C-speed path for UTC values that is checked against the
    column type's own conversion before it is used."""
    exact: Callable[[datetime], Any] = _messages.c.created_at.type.dialect_impl(
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


def _facts(run: RunRow) -> _RunFacts:
    return _RunFacts(
        id=run.id or 0,
        chat=chat_from_json(run.plan_json),
        thread_id=run.thread_id,
        open_question=run.current_question,
        ended=run.state not in LIVE and run.started_at is not None,
    )


def _inserted(rows: Sequence[Row], returned: Sequence[Any]) -> set[Key] | None:
    """The keys of the rows the INSERT returned; None when it returned every row (the rows
    of a batch have distinct keys), which spares building the set in the common case."""
    if len(returned) == len(rows):
        return None
    return {(r[1], r[2], r[3]) for r in returned}


def _participant_rows(rows: Sequence[Row], inserted: set[Key] | None) -> list[Row]:
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
