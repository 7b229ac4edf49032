"""Opening a database: the async engine for a URL in any form people paste, and SQLite's
settings (WAL, busy timeout, foreign keys) on every connection."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.errors import DatabaseUnavailable
from bot.core.store.urls import async_url, sqlite_file


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
    _run_inline(dbapi_connection)


def _run_inline(dbapi_connection: Any) -> None:
    """From here on, run the connection's SQLite calls in the event loop's own thread.

    Why: aiosqlite hands every call (cursor, execute, fetch, close, commit) to a thread of
    its own and wakes the loop with the result: ~0.2 ms of CPU a hand-off, five or so per
    statement, where the statements themselves take microseconds. With a thousand async
    chats that was about two fifths of the engine's CPU (bench/RESULTS.md section 9).
    Inline is safe here because SQLite calls are short and a transaction never awaits
    anything but its own statements, so no two of this process's transactions interleave;
    the one wait left is another *process* holding the write lock (bounded by its own short
    transactions, and by the busy timeout). If aiosqlite's internals ever change shape, the
    connection keeps its thread (slower, still correct)."""
    driver = getattr(dbapi_connection, "_connection", None)  # the aiosqlite.Connection
    if driver is not None and callable(getattr(driver, "_execute", None)):
        driver._execute = partial(_execute_inline, driver)


async def _execute_inline(driver: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    if not getattr(driver, "_running", True) or getattr(driver, "_connection", None) is None:
        raise ValueError("Connection closed")  # as aiosqlite says it
    return fn(*args, **kwargs)


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
