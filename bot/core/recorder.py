"""The recorder: every incoming message and reaction is stored by group commit, live,
rehearsed or tested.

Why: a busy chat delivers hundreds of replies a second, and storing each one in its own
transaction (several queries, one commit, one thread hop per query) tops out near a hundred
messages a second on SQLite. The recorder collects the messages that arrive while the previous
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
  acknowledged.

A batch that fails for a lasting reason (not a database outage) is split and retried one by
one, so one bad message cannot sink its neighbours; an outage fails the whole batch and each
caller's retry (see ``ChatService``) submits its message again.

Reactions ride in the same batches, applied after the batch's messages in the same commit: a
reaction to a message sent just before it finds it, and a busy chat's reactions cost a few
statements, not a transaction each.

A batch of one is a batch: a message that arrives alone goes the same way, so what the tests
and the rehearsal store is what production stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import configure_mappers

from bot.core.attribution import TOO_LATE, Attribution, Attributor
from bot.core.events import IncomingMessage, ReactionChanged
from bot.core.plan import Chat
from bot.core.recorder_sql import (
    MAX_BATCH,
    Key,
    PostgresWriter,
    ReactionOp,
    Row,
    SqliteWriter,
    messages_table,
    optional_text,
    storable_text,
    time_converter,
)
from bot.core.routing import MAX_LATE_WINDOW, RunFacts, channel_runs, choose_run
from bot.core.run_states import OPEN, RunState
from bot.core.store import PostRow, RunRow, Store, is_transient

log = logging.getLogger("chathost.recorder")

# Positive thread -> question answers remembered; cleared wholesale past this size.
CACHE_SIZE = 50_000

_runs = RunRow.__table__  # type: ignore[attr-defined]
_posts = PostRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Recorded:
    """Where a stored message went: its run, its question (None: before the first one or
    after the end) and why (a label, a thread, a reply, the open question)."""

    run_id: int
    question_id: str | None
    reason: str


Inbound = IncomingMessage | ReactionChanged


@dataclass
class _Item:
    event: Inbound
    future: asyncio.Future[Recorded | None]


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
            found = self._by_channel[key] = channel_runs(
                self.runs.values(), event.platform, event.channel
            )
        fixed, candidates = found
        return fixed if fixed is not None else choose_run(candidates, event.at)


@dataclass
class _Prepared:
    """A batch decided in memory: for its messages, each one's outcome and key (None: not
    stored) and the rows; its reactions, to apply after the messages in the same commit."""

    items: list[_Item]
    messages: list[int]  # the positions in ``items`` of the messages, and of the reactions
    reactions: list[int]
    outcomes: list[Recorded | None]
    keys: list[Key | None]
    rows: list[Row]
    questions: dict[Key, str | None]  # the question of each row, for replies in later batches
    reaction_ops: list[ReactionOp]


class MessageRecorder:
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
        self.writer = PostgresWriter(dialect) if store.dialect == "postgresql" else SqliteWriter()
        self._when = time_converter(dialect)
        # Reads only: on PostgreSQL AUTOCOMMIT spares the BEGIN/ROLLBACK round trips around
        # them. SQLite's driver begins no transaction for a SELECT anyway, and switching the
        # isolation level there costs two thread hops per batch.
        self._autocommit_reads = store.dialect == "postgresql"
        self._parents_stmt: Any = select(
            messages_table.c.platform_message_id, messages_table.c.question_id
        ).where(
            messages_table.c.platform == bindparam("platform"),
            messages_table.c.channel_id == bindparam("channel"),
            messages_table.c.platform_message_id.in_(bindparam("ids", expanding=True)),
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

    def submit(self, event: Inbound) -> asyncio.Future[Recorded | None]:
        """Queue ``event`` for its batch; the future gives, once the batch is committed, where
        it was recorded, or None (no run takes it, a bot's message, or a duplicate).

        A reaction goes into the same batches, after the messages before it (so a reaction to
        a message just sent finds it); its outcome names the run it changed, or is None (no
        such message, or nothing changed).

        A plain function returning the future rather than a coroutine: one coroutine less
        per message on the busiest path. ``await recorder.submit(event)`` reads the same.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded | None] = loop.create_future()
        if isinstance(event, IncomingMessage) and event.user.is_bot:
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
        writing: asyncio.Task[list[Recorded | None] | None] | None = None
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
                finished: tuple[list[_Item], list[Recorded | None]] | None = None
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

    async def _store_guarded(self, ready: _Prepared) -> list[Recorded | None] | None:
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

    def _answer(self, items: list[_Item], results: list[Recorded | None]) -> None:
        self.batches += 1
        self.messages += len(items)
        for item, result in zip(items, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _write(self, events: Sequence[Inbound]) -> list[Recorded | None]:
        """Attribute and store ``events`` in one go, with nothing else in flight."""
        items = [_Item(e, asyncio.get_running_loop().create_future()) for e in events]
        return await self._store(await self._prepare(items))

    # stage 1: decide

    async def _prepare(self, items: list[_Item]) -> _Prepared:
        """Attribute the batch's messages in arrival order (reads only: runs, threads, reply
        parents); its reactions are resolved when they are written."""
        events: list[IncomingMessage] = []
        ops: list[ReactionOp] = []
        at_messages: list[int] = []
        at_reactions: list[int] = []
        for i, item in enumerate(items):
            if isinstance(item.event, IncomingMessage):
                events.append(item.event)
                at_messages.append(i)
            else:
                ops.append(self._reaction_op(item.event))
                at_reactions.append(i)
        if not events:
            return _Prepared(items, [], at_reactions, [], [], [], {}, ops)
        since = min(e.at for e in events) - MAX_LATE_WINDOW
        async with self.store.engine.connect() as conn:
            if self._autocommit_reads:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await self._live.refresh(conn, since)
            runs = [self._live.choose(e) for e in events]
            threads = await self._thread_questions(conn, events, runs)
            parents = await self._parents(conn, events, runs)
        rows, keys, outcomes, questions = self._attribute(events, runs, threads, parents)
        return _Prepared(items, at_messages, at_reactions, outcomes, keys, rows, questions, ops)

    def _reaction_op(self, event: ReactionChanged) -> ReactionOp:
        return ReactionOp(
            event.platform,
            storable_text(event.channel.id),
            storable_text(event.message_id),
            storable_text(event.user.id),
            storable_text(event.user.label),
            storable_text(event.emoji),
            self._when(event.at),
            event.added,
        )

    # stage 2: store

    async def _store(self, ready: _Prepared) -> list[Recorded | None]:
        """Insert the rows, upsert the participants and apply the reactions in one
        transaction; each item's outcome, in the batch's order."""
        results: list[Recorded | None] = [None] * len(ready.items)
        if not ready.rows and not ready.reaction_ops:
            return results
        runs = sorted({o.run_id for o in ready.outcomes if o is not None})
        async with self.store.engine.connect() as conn:
            inserted, states, reacted = await self.writer.write(
                conn, ready.rows, runs, ready.reaction_ops
            )
        self.states.update(states)
        for at, key, outcome in zip(ready.messages, ready.keys, ready.outcomes, strict=True):
            if key is not None and (inserted is None or key in inserted):
                results[at] = outcome
        for at, run_id in zip(ready.reactions, reacted, strict=True):
            if run_id is not None:
                results[at] = Recorded(run_id, None, "reaction")
        return results

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
                channel = (event.platform, storable_text(event.channel.id))
                wanted.setdefault(channel, set()).add(storable_text(event.reply_to))
        found: dict[Key, str | None] = {}
        for (platform, channel), ids in wanted.items():
            params = {"platform": platform, "channel": channel, "ids": sorted(ids)}
            for message_id, question_id in await conn.execute(self._parents_stmt, params):
                found[(platform, channel, message_id)] = question_id
        return found

    def _is_host(self, chat: Chat, event: IncomingMessage) -> bool:
        """``Chat.hosted_by``, the one host check, remembered per person."""
        user = event.user
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
    ) -> tuple[list[Row], list[Key | None], list[Recorded | None], dict[Key, str | None]]:
        """Rows to insert, each event's key and outcome (None: not stored) and each row's
        question, decided in arrival order so a reply sees the question of a message before
        it: one stored earlier, then one in the batch in flight, then one earlier in this
        batch."""
        rows: list[Row] = []
        keys: list[Key | None] = []
        outcomes: list[Recorded | None] = []
        batch: dict[Key, str | None] = {}
        in_flight = self._in_flight
        facts: dict[int, RunFacts] = {}
        attributors: dict[tuple[int, str | None, str | None, str | None], Attributor] = {}
        for event, run in zip(events, runs, strict=True):
            channel_id = storable_text(event.channel.id)
            key = (event.platform, channel_id, storable_text(event.message_id))
            if run is None or key in batch:  # no run takes it; or the same delivery twice
                keys.append(None)
                outcomes.append(None)
                continue
            fact = facts.get(id(run))
            if fact is None:
                fact = facts[id(run)] = RunFacts.of(run)
            thread_question = None
            if fact.in_question_thread(event.thread_id):
                thread_question = threads.get((fact.id, event.thread_id or ""))
            reply_question = None
            if event.reply_to:
                parent = (event.platform, channel_id, storable_text(event.reply_to))
                if parent in parents:
                    reply_question = parents[parent]
                else:
                    reply_question = in_flight.get(parent, batch.get(parent))
            open_question = fact.open_question_at(event.at)
            shape = (id(run), thread_question, reply_question, open_question)
            attributor = attributors.get(shape)
            if attributor is None:
                context = fact.context(thread_question, reply_question, open_question)
                attributor = attributors[shape] = Attributor(context)
            result = attributor(event.text)
            if fact.too_late(result.question_id, event.at):
                result = TOO_LATE
            batch[key] = result.question_id
            keys.append(key)
            outcomes.append(Recorded(fact.id, result.question_id, result.reason))
            rows.append(self._row(event, fact, key, result, attributor, thread_question))
        return rows, keys, outcomes, batch

    def _row(
        self,
        event: IncomingMessage,
        fact: RunFacts,
        key: Key,
        result: Attribution,
        attributor: Attributor,
        thread_question: str | None,
    ) -> Row:
        """The message's row, in ``MESSAGE_COLUMNS`` order."""
        at = self._when(event.at)
        return (
            fact.id,
            key[0],
            key[1],
            key[2],
            storable_text(event.user.id),
            storable_text(event.user.label),
            storable_text(event.text),
            None,
            "host" if self._is_host(fact.chat, event) else "answer",
            result.question_id,
            result.reason,
            attributor.fallback.question_id,
            thread_question,
            optional_text(event.thread_id),
            optional_text(event.reply_to),
            at,
            at,
            None,
            0,
            None,
        )
