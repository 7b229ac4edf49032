"""The tables. Unique constraints carry the idempotency: a duplicate insert is a no-op."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.run_states import RunState
from bot.core.store.types import UTCDateTime


def _when(*, nullable: bool = False, index: bool = False) -> datetime:
    return Field(
        default=None, sa_column_args=(), sa_type=UTCDateTime, nullable=nullable, index=index
    )


class ChatRow(SQLModel, table=True):
    """The chats ever run, with the plan as it was last seen (the archive needs titles)."""

    __tablename__ = "chats"

    id: str = Field(primary_key=True)
    title: str
    tag: str = ""
    platform: str
    channel: str
    plan_json: str = "{}"


class RunRow(SQLModel, table=True):
    """One run of a chat. ``version`` makes every update a compare-and-set."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("chat_id", "scheduled_start"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(foreign_key="chats.id", index=True)
    platform: str
    channel: str
    scheduled_start: datetime = _when()
    state: str = Field(default=RunState.SCHEDULED.value, index=True)
    started_at: datetime | None = _when(nullable=True)
    end_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)
    paused_at: datetime | None = _when(nullable=True)
    shift_seconds: float = 0.0
    announced_offset: int | None = None
    next_question: int = 0
    current_question: str | None = None
    current_question_at: datetime | None = _when(nullable=True)
    thread_id: str | None = None
    channel_id: str | None = None
    plan_json: str = "{}"
    version: int = 0
    # Members of the channel when the chat ended (schema 0003), for the recap; None when the
    # platform could not tell.
    reach: int | None = None
    # How many said they were interested in the run's scheduled event (schema 0005), read
    # as the chat ended; None without an event.
    interested: int | None = None


class PostRow(SQLModel, table=True):
    """A step of a run that posts something: claimed first, then posted, exactly once."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("run_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    key: str
    kind: str
    question_id: str | None = None
    claimed_at: datetime = _when()
    posted_at: datetime | None = _when(nullable=True)
    skipped: bool = False
    channel_id: str | None = None
    message_id: str | None = None
    thread_id: str | None = Field(default=None, index=True)
    error: str | None = None
    attempts: int = 0
    gave_up: bool = False
    # The delivery lease (schema 0002): only ``lease_owner`` may deliver until ``lease_until``;
    # after a failure ``lease_until`` is the back-off time and the owner is cleared. A process
    # that dies mid-delivery stops renewing, so another one takes the post over.
    lease_owner: str | None = None
    lease_until: datetime | None = _when(nullable=True)


class MessageRow(SQLModel, table=True):
    """A participant's message, attributed to a question (or not)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("platform", "channel_id", "platform_message_id"),
        Index("ix_messages_run_created", "run_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id")
    platform: str
    channel_id: str
    platform_message_id: str
    user_id: str = Field(index=True)
    user_name: str
    text: str
    original_text: str | None = None
    kind: str = "answer"
    question_id: str | None = None
    reason: str
    fallback_question: str | None = None
    thread_question: str | None = None
    thread_id: str | None = None
    reply_to: str | None = None
    created_at: datetime = _when()
    received_at: datetime = _when()
    edited_at: datetime | None = _when(nullable=True)
    edit_count: int = 0
    deleted_at: datetime | None = _when(nullable=True)


class ReactionRow(SQLModel, table=True):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    user_id: str = Field(index=True)
    user_name: str = ""
    emoji: str
    created_at: datetime = _when()


class PickRow(SQLModel, table=True):
    """A host's ``/highlight`` of a message for the recap (schema 0004). One per host and
    message, as a reaction is: a host's second ``/highlight`` takes their own pick back."""

    __tablename__ = "picks"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    user_id: str = Field(index=True)
    user_name: str = ""
    created_at: datetime = _when()


class ParticipantRow(SQLModel, table=True):
    """Who spoke in a run and when they last did: the nudges read this."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    user_id: str
    user_name: str
    is_host: bool = False
    first_at: datetime = _when()
    last_at: datetime = _when()
    messages: int = 0


class NudgeRow(SQLModel, table=True):
    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("run_id", "user_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    user_id: str
    seq: int
    question_id: str | None = None
    via: str
    sent_at: datetime = _when()
    # Schema 0002: a claimed nudge is delivered by its claimer, or after ``lease_until`` by
    # another process; ``delivered_at`` marks it done (release-1 rows were backfilled).
    delivered_at: datetime | None = _when(nullable=True)
    lease_until: datetime | None = _when(nullable=True)
    attempts: int = 0
    gave_up: bool = False


class UserPrefRow(SQLModel, table=True):
    """Per-person choices that outlive runs: opting out of nudges."""

    __tablename__ = "user_prefs"

    platform: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    quiet: bool = False
    updated_at: datetime = _when()
