"""Storage: SQLModel tables and the functions that read and write them.

The database is the source of truth for every run; the scheduler only wakes the engine.
"""

from bot.core.store.database import PostClaim, Store, StoreError, open_store, storable
from bot.core.store.retry import RetryPolicy, is_transient, retry_transient
from bot.core.store.tables import (
    MessageRow,
    NudgeRow,
    ParticipantRow,
    PickRow,
    PostRow,
    ReactionRow,
    RunRow,
    UserPrefRow,
)

__all__ = [
    "MessageRow",
    "NudgeRow",
    "ParticipantRow",
    "PickRow",
    "PostClaim",
    "PostRow",
    "ReactionRow",
    "RetryPolicy",
    "RunRow",
    "Store",
    "StoreError",
    "UserPrefRow",
    "is_transient",
    "open_store",
    "retry_transient",
    "storable",
]
