"""Riding out a database that is briefly unavailable (a restart, a fail-over, a locked file).

Only errors that a later attempt can fix are retried: lost or refused connections, server
shutdown or start-up, too many connections, serialization failures and deadlocks, and SQLite's
"database is locked". Anything else (a constraint, a bad query) is raised at once.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

log = logging.getLogger("chathost.store")

T = TypeVar("T")

# SQLSTATE classes and codes that mean "try again": 08 connection exception, 53 insufficient
# resources (too many connections), 57P01-03 admin/crash shutdown and cannot-connect-now,
# 40001 serialization failure, 40P01 deadlock.
_PG_TRANSIENT_PREFIXES = ("08", "53", "57P")
_PG_TRANSIENT_CODES = {"40001", "40P01"}
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "busy")


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_transient(exc: BaseException) -> bool:
    """True when the same operation may well succeed if tried again in a moment."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = _sqlstate(exc)
        if code is not None:
            return code in _PG_TRANSIENT_CODES or code.startswith(_PG_TRANSIENT_PREFIXES)
        text = str(exc.orig).lower()
        if any(marker in text for marker in _SQLITE_TRANSIENT):
            return True
        # asyncpg reports a dropped or refused connection as an interface/operational error
        # without a SQLSTATE; SQLite's other OperationalErrors (no such table...) are real.
        return isinstance(exc, OperationalError) and "sqlite" not in type(exc.orig).__module__
    if type(exc).__name__ in {"ConnectionDoesNotExistError", "CannotConnectNowError"}:
        return True  # asyncpg errors raised outside SQLAlchemy's wrapping (pool connect)
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off doubling from ``first_delay`` up to ``max_delay``, for ``attempts`` tries.

    The default rides out about 30 seconds of outage.
    """

    attempts: int = 10
    first_delay: float = 0.25
    max_delay: float = 5.0

    def delays(self) -> list[float]:
        """Every wait between attempts, in order (one fewer than ``attempts``)."""
        return [self.delay(i) for i in range(self.retries)]

    @property
    def retries(self) -> int:
        """How many times a failed attempt is tried again."""
        return max(0, self.attempts - 1)

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 for the first)."""
        return min(self.max_delay, self.first_delay * 2**retry)


DEFAULT_POLICY = RetryPolicy()

Sleep = Callable[[float], Awaitable[object]]


async def retry_transient(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
    failed: Exception | None = None,
) -> T:
    """Run ``operation``; on a transient database error wait and run it again.

    ``operation`` must be safe to repeat (the store's writes are idempotent or
    compare-and-set, so a repeat after a lost commit acknowledgement is a no-op).
    ``failed``: the caller made the first attempt itself and it raised this; go on as if
    that attempt had been made here (a hot path tries once without this wrapper).
    """
    # Delays are computed only after a failure: this wraps every incoming message, and
    # building the whole list up front cost ~8% of the busiest path (bench/RESULTS.md).
    retries = policy.retries
    attempt = 0
    while True:
        if failed is None:
            try:
                return await operation()
            except Exception as exc:
                failed = exc
        if attempt >= retries or not is_transient(failed):
            raise failed
        delay = policy.delay(attempt)
        attempt += 1
        log.warning(
            "database unavailable while %s (%s); retry %d/%d in %.2fs",
            what,
            type(failed).__name__,
            attempt,
            retries,
            delay,
        )
        failed = None
        await sleep(delay)
