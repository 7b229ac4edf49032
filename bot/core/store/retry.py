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
        return [
            min(self.max_delay, self.first_delay * 2**i) for i in range(max(0, self.attempts - 1))
        ]


DEFAULT_POLICY = RetryPolicy()

Sleep = Callable[[float], Awaitable[object]]


async def retry_transient(
    operation: Callable[[], Awaitable[T]],
    *,
    what: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run ``operation``; on a transient database error wait and run it again.

    ``operation`` must be safe to repeat (the store's writes are idempotent or
    compare-and-set, so a repeat after a lost commit acknowledgement is a no-op).
    """
    delays = policy.delays()
    for attempt in range(len(delays) + 1):
        try:
            return await operation()
        except Exception as exc:
            if attempt >= len(delays) or not is_transient(exc):
                raise
            delay = delays[attempt]
            log.warning(
                "database unavailable while %s (%s); retry %d/%d in %.2fs",
                what,
                type(exc).__name__,
                attempt + 1,
                len(delays),
                delay,
            )
            await sleep(delay)
    raise AssertionError("unreachable")
