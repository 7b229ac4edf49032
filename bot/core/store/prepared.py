"""Statements built once, with bound parameters, for the engine's busiest queries.

Why: the engine runs these on every step of every chat (a thousand chats post dozens of
questions a second). Building a SQLAlchemy statement and computing its cache key on each call
cost about a fifth of the query's CPU time; a statement object built once keeps its cache key.
Parameter names carry a ``p_`` prefix because SQLAlchemy reserves column names in SET clauses.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.run_states import OPEN
from bot.core.store.tables import MessageRow, NudgeRow, ParticipantRow, PostRow, RunRow

runs = RunRow.__table__  # type: ignore[attr-defined]
posts = PostRow.__table__  # type: ignore[attr-defined]
nudges = NudgeRow.__table__  # type: ignore[attr-defined]
participants = ParticipantRow.__table__  # type: ignore[attr-defined]
messages = MessageRow.__table__  # type: ignore[attr-defined]

GET_RUN = select(runs).where(runs.c.id == bindparam("p_id"))

OPEN_RUNS_BY_ID = (
    select(runs)
    .where(runs.c.id.in_(bindparam("p_ids", expanding=True)), runs.c.state.in_(OPEN))
    .order_by(runs.c.scheduled_start)
)

OPEN_RUN_VERSIONS = (
    select(runs.c.id, runs.c.version)
    .where(runs.c.state.in_(OPEN))
    .order_by(runs.c.scheduled_start)
)

RUN_POSTS = select(posts).where(posts.c.run_id == bindparam("p_run")).order_by(posts.c.id)

# The run's first post claimed before a given one whose delivery failed and is backing off.
FAILED_BEFORE = (
    select(posts)
    .where(
        posts.c.run_id == bindparam("p_run"),
        posts.c.id < bindparam("p_id"),
        posts.c.posted_at.is_(None),
        posts.c.gave_up.is_(False),
        posts.c.skipped.is_(False),
        posts.c.lease_owner.is_(None),
        posts.c.attempts > 0,
        posts.c.kind != bindparam("p_kind"),
    )
    .order_by(posts.c.id)
    .limit(1)
)

# Who answered which question of a run (deleted messages left out): what reminders read.
ANSWERED = (
    select(messages.c.user_id, messages.c.question_id)
    .where(
        messages.c.run_id == bindparam("p_run"),
        messages.c.question_id.is_not(None),
        messages.c.deleted_at.is_(None),
    )
    .distinct()
)

RUN_NUDGES = select(nudges).where(nudges.c.run_id == bindparam("p_run")).order_by(nudges.c.id)

RUN_PARTICIPANTS = (
    select(participants)
    .where(participants.c.run_id == bindparam("p_run"))
    .order_by(participants.c.first_at, participants.c.id)
)

PENDING_POSTS = (
    select(posts)
    .where(posts.c.posted_at.is_(None), posts.c.skipped.is_(False), posts.c.gave_up.is_(False))
    .order_by(posts.c.id)
)

PENDING_NUDGES = (
    select(nudges)
    .where(
        nudges.c.delivered_at.is_(None),
        nudges.c.gave_up.is_(False),
        nudges.c.attempts < bindparam("p_attempts"),
    )
    .order_by(nudges.c.id)
)

# Each participant of a run with their nudges counted (the nudge rules' input).
ACTIVITY = (
    select(
        participants.c.user_id,
        participants.c.user_name,
        participants.c.is_host,
        participants.c.last_at,
        func.count(nudges.c.id),
        func.max(nudges.c.sent_at),
    )
    .select_from(
        participants.outerjoin(
            nudges,
            (nudges.c.run_id == participants.c.run_id)
            & (nudges.c.user_id == participants.c.user_id),
        )
    )
    .where(participants.c.run_id == bindparam("p_run"))
    .group_by(participants.c.id)
    .order_by(participants.c.first_at, participants.c.id)
)

MARK_POSTED = (
    update(posts)
    .where(posts.c.id == bindparam("p_id"))
    .values(
        posted_at=bindparam("p_at"),
        channel_id=bindparam("p_channel"),
        message_id=bindparam("p_message"),
        thread_id=bindparam("p_thread"),
        error=None,
        lease_owner=None,
        lease_until=None,
    )
    .returning(posts.c.run_id)
)

ADOPT_THREAD = (
    update(runs)
    .where(runs.c.id == bindparam("p_id"), runs.c.thread_id.is_(None))
    .values(thread_id=bindparam("p_thread"), version=runs.c.version + 1)
)

PIN_CHANNEL = (
    update(runs)
    .where(runs.c.id == bindparam("p_id"), runs.c.channel_id.is_(None))
    .values(channel_id=bindparam("p_channel"), version=runs.c.version + 1)
)

CLAIM_FIELDS = (
    "run_id",
    "key",
    "kind",
    "question_id",
    "claimed_at",
    "skipped",
    "lease_owner",
    "lease_until",
)


@cache
def run_cas(columns: tuple[str, ...]) -> Any:
    """``UPDATE runs SET <columns>, version = :p_next WHERE id = :p_id AND version =
    :p_version RETURNING id``: the compare-and-set of a transition changing ``columns``."""
    values: dict[str, Any] = {name: bindparam(f"p_{name}") for name in columns}
    return (
        update(runs)
        .where(runs.c.id == bindparam("p_id"), runs.c.version == bindparam("p_version"))
        .values(**values, version=bindparam("p_next"))
        .returning(runs.c.id)
    )


def claim_post(dialect: str) -> Any:
    """A post claim: unique per (run, key), so a second claim of the same step is a no-op."""
    return _claim(dialect, "posts", CLAIM_FIELDS)


NUDGE_CLAIM_FIELDS = (
    "run_id",
    "user_id",
    "seq",
    "question_id",
    "via",
    "sent_at",
    "lease_until",
    "delivered_at",
)


def claim_nudge(dialect: str) -> Any:
    """A nudge claim: unique per run, person and sequence number."""
    return _claim(dialect, "nudges", NUDGE_CLAIM_FIELDS)


@cache
def _claim(dialect: str, table_name: str, fields: tuple[str, ...]) -> Any:
    """``INSERT .. ON CONFLICT DO NOTHING RETURNING *`` with ``p_<field>`` parameters."""
    table = {"posts": posts, "nudges": nudges}[table_name]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .values({name: bindparam(f"p_{name}") for name in fields})
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
