"""The Store: every read and write of chathost's state, for SQLite and PostgreSQL alike.

Writes that may be repeated (duplicate deliveries, retried steps, a second process) are
inserts guarded by unique constraints or compare-and-set updates, so repeating them is a no-op.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    String,
    case,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import configure_mappers
from sqlmodel import SQLModel

from bot.core.errors import DatabaseUnavailable
from bot.core.plan import Chat
from bot.core.ports import PostedRef
from bot.core.run_states import OPEN, RunState
from bot.core.store import prepared
from bot.core.store.tables import (
    ChatRow,
    MessageRow,
    NudgeRow,
    ParticipantRow,
    PostRow,
    ReactionRow,
    RunRow,
    UserPrefRow,
)
from bot.core.store.urls import async_url, shown_url, sqlite_file


@dataclass(frozen=True)
class PostClaim:
    """A step to claim: ``key`` is unique per run (``question:Q2``, ``intro``, ``recap``)."""

    key: str
    kind: str
    at: datetime
    question_id: str | None = None
    skipped: bool = False
    # Who delivers it, and until when nobody else may (see PostRow.lease_owner).
    owner: str | None = None
    lease_until: datetime | None = None



_message_table = MessageRow.__table__  # type: ignore[attr-defined]
_reaction_table = ReactionRow.__table__  # type: ignore[attr-defined]
_run_table = prepared.runs
_nudge_table = prepared.nudges
_participant_table = prepared.participants

_Row = TypeVar("_Row", bound=SQLModel)


class PersonActivity(NamedTuple):
    """Who spoke in a run and how often they were nudged: what the nudge rules read."""

    user_id: str
    user_name: str
    is_host: bool
    last_at: datetime
    nudges: int
    last_nudged: datetime | None


class MessageRecord(NamedTuple):
    """What the recap and the exports read of a stored message (``Store.message_records``)."""

    id: int
    platform_message_id: str
    user_id: str
    user_name: str
    text: str
    created_at: datetime
    kind: str
    question_id: str | None
    reason: str
    thread_id: str | None
    reply_to: str | None
    edit_count: int


class Forgotten(NamedTuple):
    """What ``Store.forget_user`` removed: the count for the person's reply, and the runs
    whose posted recaps still show them until they are re-rendered."""

    messages: int
    run_ids: tuple[int, ...]


class ReactionRecord(NamedTuple):
    """One reaction as the recap reads it (``Store.reaction_records``)."""

    message_id: int
    user_id: str
    user_name: str
    emoji: str


class StoreError(Exception):
    """A database problem, with the operation that hit it."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the archive read while the bot writes; NORMAL sync is durable in WAL mode
    # against process crashes (only an OS crash can lose the last transactions).
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching to WAL takes a lock, and without the timeout a second
    # process opening the file at the same moment fails at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=10000")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any, attempts: int = 50) -> None:
    """WAL is a property of the file: set once, by whichever connection comes first. The
    switch needs the file to itself, and SQLite may refuse it at once ("database is locked")
    without waiting out the busy timeout while another connection is mid-transaction (several
    workers starting together, one of them migrating); so it is retried briefly. This runs in
    the driver's own thread, where a blocking sleep holds up nobody."""
    for attempt in range(attempts):
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError (sqlite3's, or its adapter's)
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def create_engine_for(url: str, *, read_only: bool = False) -> AsyncEngine:
    """An engine for a URL in any form people paste (see ``urls.py``). ``read_only``: the
    commands that only read (export, serve, health) never create a SQLite file or folder, so
    a mistyped path is an error instead of an empty database left behind."""
    parsed = async_url(url)
    file = sqlite_file(parsed)
    if file is not None:
        if read_only and not file.is_file():
            raise DatabaseUnavailable(
                f"no database at {file}: give --db the file `chathost run` or `chathost "
                "rehearse` wrote (rehearse prints it), e.g. --db out/demo/rehearsal.db"
            )
        if not read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True)


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


# Text the databases cannot hold: PostgreSQL refuses NUL in text, and neither driver can
# encode a lone UTF-16 surrogate (a platform payload can carry both). They become U+FFFD.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` with the characters no database can store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def _storable_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: storable(v) if isinstance(v, str) else v for k, v in values.items()}


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        configure_mappers()  # rows are built with model_construct before any ORM query runs

    async def create_all(self) -> None:
        """Tables without versioning; kept for callers of release 1. Prefer ``migrate``."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def migrate(self, target: str = "head") -> None:
        """Upgrade the schema with Alembic (safe when several processes start at once)."""
        from bot.core.store.migrate import upgrade

        await upgrade(self.engine, target)

    async def ping(self) -> None:
        """One round trip to the database; raises when it does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    async def _fetch(
        self, model: type[_Row], stmt: Any, params: dict[str, Any] | None = None
    ) -> list[_Row]:
        """Rows of one table as models, read through Core. The engine reads runs, posts and
        nudges on every step of every chat; the ORM session (identity map, unit of work) costs
        about half as much again per query and none of these reads needs it."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt, params)).mappings().all()
        return [model.model_construct(**row) for row in rows]

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table)

    # chats and runs

    async def upsert_chat(self, chat: Chat) -> None:
        values = {
            "id": chat.id,
            "title": chat.title,
            "tag": chat.tag,
            "platform": chat.platform,
            "channel": chat.channel,
            "plan_json": chat.model_dump_json(),
        }
        stmt = self._insert(ChatRow).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["id"], set_=values)
        async with self.session() as s:
            await s.execute(stmt)

    async def ensure_run(self, chat: Chat, scheduled_start: datetime, end_at: datetime) -> RunRow:
        """The run of ``chat`` starting at ``scheduled_start``, created once."""
        values = {
            "chat_id": chat.id,
            "platform": chat.platform,
            "channel": chat.channel,
            "scheduled_start": scheduled_start,
            "end_at": end_at,
            "plan_json": chat.model_dump_json(),
        }
        async with self.session() as s:
            await s.execute(self._insert(RunRow).values(**values).on_conflict_do_nothing())
            found = await s.execute(
                select(RunRow).where(
                    RunRow.chat_id == chat.id, RunRow.scheduled_start == scheduled_start
                )
            )
            return found.scalar_one()

    async def get_run(self, run_id: int) -> RunRow | None:
        found = await self._fetch(RunRow, prepared.GET_RUN, {"p_id": run_id})
        return found[0] if found else None

    async def open_runs(self) -> list[RunRow]:
        return await self._runs(RunRow.state.in_(OPEN))

    async def runs_for_chat(self, chat_id: str) -> list[RunRow]:
        return await self._runs(RunRow.chat_id == chat_id)

    async def all_runs(self) -> list[RunRow]:
        return await self._runs()

    async def _runs(self, *where: Any) -> list[RunRow]:
        stmt = select(_run_table).where(*where).order_by(_run_table.c.scheduled_start)
        return await self._fetch(RunRow, stmt)

    async def live_runs(self, ended_since: datetime) -> list[RunRow]:
        """Runs that can still take messages: open ones, and those ended after ``ended_since``."""
        return await self._runs(
            RunRow.state.in_(OPEN)
            | ((RunRow.state == RunState.SUMMARISED) & (RunRow.ended_at >= ended_since))
        )

    async def transition(
        self, run: RunRow, changes: dict[str, Any], claim: PostClaim | None = None
    ) -> tuple[RunRow | None, PostRow | None]:
        """Change a run and claim the post it causes in one transaction, or do neither.

        The compare-and-set on ``version`` means that of two processes (or two coroutines)
        acting on the same stale view, exactly one wins; the loser re-reads and re-decides.
        """
        stmt = prepared.run_cas(tuple(sorted(changes)))
        params = {f"p_{name}": value for name, value in changes.items()}
        params.update(p_id=run.id, p_version=run.version, p_next=run.version + 1)
        async with self.engine.begin() as conn:
            if (await conn.execute(stmt, params)).scalar_one_or_none() is None:
                return None, None
            post = await self._claim(conn, run.id, claim) if claim else None
        return run.model_copy(update={**changes, "version": run.version + 1}), post

    async def update_run(self, run: RunRow, **changes: Any) -> RunRow | None:
        """Compare-and-set: applies only if nobody changed the run since ``run`` was read."""
        stmt = (
            update(RunRow)
            .where(RunRow.id == run.id, RunRow.version == run.version)
            .values(**changes, version=run.version + 1)
            .returning(RunRow.id)
        )
        async with self.session() as s:
            won = (await s.execute(stmt)).scalar_one_or_none() is not None
        if not won:
            return None
        return run.model_copy(update={**changes, "version": run.version + 1})

    # posts

    async def claim_post(self, run_id: int, claim: PostClaim) -> PostRow | None:
        """Claim a step; None when it was claimed before (by us or another process)."""
        async with self.engine.begin() as conn:
            return await self._claim(conn, run_id, claim)

    async def _claim(self, conn: AsyncConnection, run_id: int, claim: PostClaim) -> PostRow | None:
        values = {
            "p_run_id": run_id,
            "p_key": claim.key,
            "p_kind": claim.kind,
            "p_question_id": claim.question_id,
            "p_claimed_at": claim.at,
            "p_skipped": claim.skipped,
            "p_lease_owner": claim.owner,
            "p_lease_until": claim.lease_until,
        }
        found = await conn.execute(prepared.claim_post(self.dialect), values)
        row = found.mappings().first()
        return None if row is None else PostRow.model_construct(**row)

    async def get_post(self, post_id: int) -> PostRow | None:
        async with self.session() as s:
            return await s.get(PostRow, post_id)

    async def pending_posts(self) -> list[PostRow]:
        """Claimed steps not yet delivered: a crash or a platform error came in between."""
        return await self._fetch(PostRow, prepared.PENDING_POSTS)

    async def lease_post(
        self, post_id: int, owner: str, now: datetime, until: datetime
    ) -> PostRow | None:
        """Take the delivery of a pending post if nobody holds it; the post, or None.

        The single UPDATE is the arbiter between processes: of several that find the same
        post due, one gets a row back and delivers; the others skip it.
        """
        stmt = (
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.posted_at.is_(None),
                PostRow.gave_up.is_(False),
                PostRow.skipped.is_(False),
                or_(PostRow.lease_until.is_(None), PostRow.lease_until <= now),
            )
            .values(lease_owner=owner, lease_until=until)
            .returning(PostRow.id)
        )
        async with self.session() as s:
            if (await s.execute(stmt)).scalar_one_or_none() is None:
                return None
            return await s.get(PostRow, post_id)

    async def renew_post_lease(self, post_id: int, owner: str, until: datetime) -> bool:
        """Keep a delivery in flight ours; False if it is no longer ours (or already done)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.lease_owner == owner, PostRow.posted_at.is_(None))
            .values(lease_until=until)
            .returning(PostRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def mark_posted(
        self,
        post_id: int,
        ref: PostedRef,
        now: datetime,
        *,
        run_thread: bool = False,
        run_channel: bool = False,
    ) -> None:
        """Record a delivery; with ``run_thread`` the run adopts the post's thread, with
        ``run_channel`` the post's channel id (if it has none yet), in the same transaction, so
        a crash cannot leave either unrecorded."""
        values = {
            "p_id": post_id,
            "p_at": now,
            "p_channel": ref.channel_id,
            "p_message": ref.message_id,
            "p_thread": ref.thread_id,
        }
        async with self.engine.begin() as conn:
            run_id = (await conn.execute(prepared.MARK_POSTED, values)).scalar_one_or_none()
            if run_thread and ref.thread_id and run_id is not None:
                # Bumping the version makes any stale compare-and-set elsewhere re-read.
                await conn.execute(
                    prepared.ADOPT_THREAD, {"p_id": run_id, "p_thread": ref.thread_id}
                )
            if run_channel and run_id is not None:
                await conn.execute(
                    prepared.PIN_CHANNEL, {"p_id": run_id, "p_channel": ref.channel_id}
                )

    async def mark_post_failed(
        self, post: PostRow, error: str, *, give_up: bool, retry_at: datetime | None = None
    ) -> None:
        """Count a failed attempt; ``retry_at`` is when anyone may try again (the back-off)."""
        stmt = (
            update(PostRow)
            .where(PostRow.id == post.id)
            .values(
                error=storable(error),
                attempts=PostRow.attempts + 1,
                gave_up=give_up,
                lease_owner=None,
                lease_until=retry_at,
            )
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def posts(self, run_id: int) -> list[PostRow]:
        async with self.session() as s:
            found = await s.execute(
                select(PostRow).where(PostRow.run_id == run_id).order_by(PostRow.id)
            )
            return list(found.scalars())

    async def question_for_thread(self, run_id: int, thread_id: str) -> str | None:
        # A reply under a question's own message counts too (Slack threads hang off any post).
        stmt = select(PostRow.question_id).where(
            PostRow.run_id == run_id,
            (PostRow.thread_id == thread_id) | (PostRow.message_id == thread_id),
            PostRow.kind == "question",
        )
        async with self.session() as s:
            return (await s.execute(stmt.limit(1))).scalar_one_or_none()

    # messages

    async def add_message(self, row: MessageRow, *, is_host: bool) -> MessageRow | None:
        """Store a message and count its author in one transaction; None if a duplicate."""
        values = _storable_values(row.model_dump(exclude={"id"}))
        row = row.model_copy(update=values)
        insert_message = (
            self._insert(MessageRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(MessageRow.id)
        )
        async with self.session() as s:
            new_id = (await s.execute(insert_message)).scalar_one_or_none()
            if new_id is None:
                return None
            await s.execute(self._participant_upsert(row, is_host))
        return row.model_copy(update={"id": new_id})

    def _participant_upsert(self, row: MessageRow, is_host: bool) -> Any:
        stmt = self._insert(ParticipantRow).values(
            run_id=row.run_id,
            user_id=row.user_id,
            user_name=row.user_name,
            is_host=is_host,
            first_at=row.created_at,
            last_at=row.created_at,
            messages=1,
        )
        later = case(
            (stmt.excluded.last_at > ParticipantRow.last_at, stmt.excluded.last_at),
            else_=ParticipantRow.last_at,
        )
        return stmt.on_conflict_do_update(
            index_elements=["run_id", "user_id"],
            set_={"messages": ParticipantRow.messages + 1, "last_at": later},
        )

    async def find_message(
        self, platform: str, channel_id: str, message_id: str
    ) -> MessageRow | None:
        stmt = select(MessageRow).where(
            MessageRow.platform == platform,
            MessageRow.channel_id == storable(channel_id),
            MessageRow.platform_message_id == storable(message_id),
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()

    async def update_message(self, message_id: int, **changes: Any) -> None:
        values = _storable_values(changes)
        async with self.session() as s:
            await s.execute(update(MessageRow).where(MessageRow.id == message_id).values(**values))

    async def run_messages(self, run_id: int, *, include_deleted: bool = False) -> list[MessageRow]:
        stmt = select(MessageRow).where(MessageRow.run_id == run_id)
        if not include_deleted:
            stmt = stmt.where(MessageRow.deleted_at.is_(None))
        async with self.session() as s:
            found = await s.execute(stmt.order_by(MessageRow.created_at, MessageRow.id))
            return list(found.scalars())

    async def message_records(self, run_id: int) -> list[MessageRecord]:
        """The run's messages (deleted ones left out) as plain rows, in time order, for the
        recap and the exports. One Core select: 50,000 ORM ``MessageRow`` objects took ~1 s
        to build, the same rows as tuples ~0.2 s.

        The time comes as the driver hands it over and is made aware UTC here, in one pass:
        the column type's own conversion (SQLite's text parsed, then a ``TypeDecorator`` call
        per row) took ~0.2 s of a 50,000-message run, ``fromisoformat`` takes ~0.01 s."""
        m = _message_table
        stmt = (
            select(
                m.c.id,
                m.c.platform_message_id,
                m.c.user_id,
                m.c.user_name,
                m.c.text,
                type_coerce(m.c.created_at, String),  # as stored: no per-row conversion
                m.c.kind,
                m.c.question_id,
                m.c.reason,
                m.c.thread_id,
                m.c.reply_to,
                m.c.edit_count,
            )
            .where(m.c.run_id == run_id, m.c.deleted_at.is_(None))
            .order_by(m.c.created_at, m.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        if rows and isinstance(rows[0][5], str):  # SQLite: the naive UTC text the type wrote
            parse = datetime.fromisoformat
            return [MessageRecord(*r[:5], parse(r[5] + "+00:00"), *r[6:]) for r in rows]
        return [MessageRecord(*r[:5], r[5].replace(tzinfo=UTC), *r[6:]) for r in rows]

    async def reaction_records(self, run_id: int) -> list[ReactionRecord]:
        """Reactions to the run's messages as plain rows, oldest first (as ``reactions_for_run``
        orders them), without building ORM objects."""
        r, m = _reaction_table, _message_table
        stmt = (
            select(r.c.message_id, r.c.user_id, r.c.user_name, r.c.emoji)
            .join(m, m.c.id == r.c.message_id)
            .where(m.c.run_id == run_id)
            .order_by(r.c.id)
        )
        async with self.engine.connect() as conn:
            return [ReactionRecord._make(row) for row in (await conn.execute(stmt)).all()]

    # reactions

    async def add_reaction(
        self, message_id: int, user_id: str, user_name: str, emoji: str, now: datetime
    ) -> bool:
        stmt = (
            self._insert(ReactionRow)
            .values(
                message_id=message_id,
                user_id=storable(user_id),
                user_name=storable(user_name),
                emoji=storable(emoji),
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(ReactionRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def remove_reaction(self, message_id: int, user_id: str, emoji: str) -> bool:
        stmt = (
            delete(ReactionRow)
            .where(
                ReactionRow.message_id == message_id,
                ReactionRow.user_id == storable(user_id),
                ReactionRow.emoji == storable(emoji),
            )
            .returning(ReactionRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).first() is not None

    async def reactions_for_run(self, run_id: int) -> list[ReactionRow]:
        stmt = (
            select(ReactionRow)
            .join(MessageRow, MessageRow.id == ReactionRow.message_id)
            .where(MessageRow.run_id == run_id)
            .order_by(ReactionRow.id)
        )
        async with self.session() as s:
            return list((await s.execute(stmt)).scalars())

    # participants and nudges

    async def participants(self, run_id: int) -> list[ParticipantRow]:
        c = _participant_table.c
        stmt = select(_participant_table).where(c.run_id == run_id).order_by(c.first_at, c.id)
        return await self._fetch(ParticipantRow, stmt)

    async def nudges(self, run_id: int) -> list[NudgeRow]:
        c = _nudge_table.c
        stmt = select(_nudge_table).where(c.run_id == run_id).order_by(c.id)
        return await self._fetch(NudgeRow, stmt)

    async def activity(self, run_id: int) -> list[PersonActivity]:
        """Each participant with their nudges counted: one query, where reading participants
        and nudges apart took two on every step of a running chat."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(prepared.ACTIVITY, {"p_run": run_id})).all()
        return [PersonActivity(*row) for row in rows]

    async def claim_nudge(
        self,
        run_id: int,
        user_id: str,
        seq: int,
        question_id: str | None,
        via: str,
        now: datetime,
        *,
        lease_until: datetime | None = None,
    ) -> bool:
        """Claim the ``seq``-th nudge of a person in a run; False if it was claimed before.

        Without ``lease_until`` the nudge counts as delivered at once (release-1 behaviour:
        at most once); with it, it stays pending until ``mark_nudge_delivered``.
        """
        stmt = (
            self._insert(NudgeRow)
            .values(
                run_id=run_id,
                user_id=user_id,
                seq=seq,
                question_id=question_id,
                via=via,
                sent_at=now,
                lease_until=lease_until,
                delivered_at=None if lease_until else now,
            )
            .on_conflict_do_nothing()
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def pending_nudges(self, max_attempts: int) -> list[NudgeRow]:
        """Claimed nudges not delivered yet (their claimer died or the platform failed)."""
        return await self._fetch(NudgeRow, prepared.PENDING_NUDGES, {"p_attempts": max_attempts})

    async def lease_nudge(self, nudge_id: int, now: datetime, until: datetime) -> NudgeRow | None:
        """Take a pending nudge's delivery if its lease ran out; the nudge, or None."""
        stmt = (
            update(NudgeRow)
            .where(
                NudgeRow.id == nudge_id,
                NudgeRow.delivered_at.is_(None),
                or_(NudgeRow.lease_until.is_(None), NudgeRow.lease_until <= now),
            )
            .values(lease_until=until)
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            if (await s.execute(stmt)).scalar_one_or_none() is None:
                return None
            return await s.get(NudgeRow, nudge_id)

    async def renew_nudge_lease(self, nudge_id: int, until: datetime) -> bool:
        """Keep a nudge in flight ours; False once it is delivered or abandoned."""
        stmt = (
            update(NudgeRow)
            .where(
                NudgeRow.id == nudge_id,
                NudgeRow.delivered_at.is_(None),
                NudgeRow.gave_up.is_(False),
            )
            .values(lease_until=until)
            .returning(NudgeRow.id)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def mark_nudge_delivered(self, nudge_id: int, now: datetime) -> None:
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id)
            .values(delivered_at=now, lease_until=None)
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def mark_nudge_failed(self, nudge_id: int, retry_at: datetime | None) -> None:
        """Count a failed attempt; ``retry_at`` None abandons it (the question moved on)."""
        stmt = (
            update(NudgeRow)
            .where(NudgeRow.id == nudge_id)
            .values(attempts=NudgeRow.attempts + 1, lease_until=retry_at, gave_up=retry_at is None)
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def find_nudge(self, run_id: int, user_id: str, seq: int) -> NudgeRow | None:
        stmt = select(NudgeRow).where(
            NudgeRow.run_id == run_id, NudgeRow.user_id == user_id, NudgeRow.seq == seq
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()

    async def quiet_users(self, platform: str) -> set[str]:
        stmt = select(UserPrefRow.user_id).where(
            UserPrefRow.platform == platform, UserPrefRow.quiet.is_(True)
        )
        async with self.engine.connect() as conn:
            return set((await conn.execute(stmt)).scalars())

    async def set_quiet(self, platform: str, user_id: str, quiet: bool, now: datetime) -> None:
        values = {"platform": platform, "user_id": user_id, "quiet": quiet, "updated_at": now}
        stmt = self._insert(UserPrefRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "user_id"], set_={"quiet": quiet, "updated_at": now}
        )
        async with self.session() as s:
            await s.execute(stmt)

    async def forget_user(self, platform: str, user_id: str) -> Forgotten:
        """Delete a person's messages, reactions, nudges and participation. The runs they
        touched are read in the same transaction, before the rows that name them go."""
        own = select(MessageRow.id).where(
            MessageRow.platform == platform, MessageRow.user_id == user_id
        )
        runs = select(RunRow.id).where(RunRow.platform == platform)
        async with self.session() as s:
            touched = await self._runs_touched_by(s, platform, user_id, runs)
            await s.execute(delete(ReactionRow).where(ReactionRow.message_id.in_(own)))
            await s.execute(
                delete(ReactionRow).where(
                    ReactionRow.user_id == user_id,
                    ReactionRow.message_id.in_(
                        select(MessageRow.id).where(MessageRow.platform == platform)
                    ),
                )
            )
            removed = await s.execute(
                delete(MessageRow)
                .where(MessageRow.platform == platform, MessageRow.user_id == user_id)
                .returning(MessageRow.id)
            )
            count = len(removed.all())
            await s.execute(
                delete(NudgeRow).where(NudgeRow.user_id == user_id, NudgeRow.run_id.in_(runs))
            )
            await s.execute(
                delete(ParticipantRow).where(
                    ParticipantRow.user_id == user_id, ParticipantRow.run_id.in_(runs)
                )
            )
            return Forgotten(count, touched)

    @staticmethod
    async def _runs_touched_by(
        s: AsyncSession, platform: str, user_id: str, runs: Any
    ) -> tuple[int, ...]:
        """The runs with the person's messages, reactions, nudges or participation."""
        reacted = (
            select(MessageRow.run_id)
            .join(ReactionRow, ReactionRow.message_id == MessageRow.id)
            .where(MessageRow.platform == platform, ReactionRow.user_id == user_id)
        )
        wrote = select(MessageRow.run_id).where(
            MessageRow.platform == platform, MessageRow.user_id == user_id
        )
        joined = select(ParticipantRow.run_id).where(
            ParticipantRow.user_id == user_id, ParticipantRow.run_id.in_(runs)
        )
        nudged = select(NudgeRow.run_id).where(
            NudgeRow.user_id == user_id, NudgeRow.run_id.in_(runs)
        )
        found: set[int] = set()
        for query in (wrote, reacted, joined, nudged):
            found.update((await s.execute(query)).scalars())
        return tuple(sorted(found))

    async def chats(self) -> list[ChatRow]:
        async with self.session() as s:
            return list((await s.execute(select(ChatRow).order_by(ChatRow.id))).scalars())

    async def count_messages(self, run_id: int) -> int:
        stmt = (
            select(func.count())
            .select_from(MessageRow)
            .where(MessageRow.run_id == run_id, MessageRow.deleted_at.is_(None))
        )
        async with self.session() as s:
            return int((await s.execute(stmt)).scalar_one())

    # reads for the recap, the exports and the archive

    async def latest_run(self) -> RunRow | None:
        """The run that started last (``chathost export latest``): future runs have no data."""
        stmt = (
            select(RunRow)
            .where(RunRow.started_at.is_not(None))
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(1)
        )
        async with self.session() as s:
            return (await s.execute(stmt)).scalar_one_or_none()

    async def get_chat(self, chat_id: str) -> ChatRow | None:
        async with self.session() as s:
            return await s.get(ChatRow, chat_id)

    async def message_authors(self, run_ids: list[int]) -> list[tuple[int, str, str, int]]:
        """(run id, user id, kind, messages) per person and kind, deleted messages left out:
        attendance across runs without loading every message."""
        if not run_ids:
            return []
        stmt = (
            select(MessageRow.run_id, MessageRow.user_id, MessageRow.kind, func.count())
            .where(MessageRow.run_id.in_(run_ids), MessageRow.deleted_at.is_(None))
            .group_by(MessageRow.run_id, MessageRow.user_id, MessageRow.kind)
        )
        async with self.session() as s:
            rows = (await s.execute(stmt)).all()
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    # reads for the engine's agenda (bot/core/agenda.py)

    async def runs_by_id(self, run_ids: list[int]) -> list[RunRow]:
        """Open runs among ``run_ids``, by start: a tick between full passes reads only the
        runs that are due, not every open run."""
        if not run_ids:
            return []
        return await self._fetch(RunRow, prepared.OPEN_RUNS_BY_ID, {"p_ids": run_ids})
