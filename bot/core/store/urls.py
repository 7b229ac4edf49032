"""Database URLs as people paste them, turned into the async URL chathost's engine needs.

Hosting platforms (Heroku, Render, Railway, Fly) hand out ``postgres://...``, a name SQLAlchemy
no longer knows; tutorials write ``postgresql://`` (psycopg, not installed) or
``sqlite:///file.db``; people also give a bare file path. chathost runs on asyncio, so each
becomes ``postgresql+asyncpg://`` or ``sqlite+aiosqlite://``. Hosted URLs carry libpq's
``sslmode``, which asyncpg takes as ``ssl``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.core.errors import SettingsError

ACCEPTED_FORMS = (
    "sqlite:///FILE.db (relative), sqlite:////ABS/PATH.db, a file path, "
    "postgres://USER:PASS@HOST:PORT/DB or postgresql://... (with ?sslmode=require if needed)"
)
_SQLITE = "sqlite+aiosqlite"
_POSTGRES = "postgresql+asyncpg"
_POSTGRES_NAMES = ("postgres", "postgresql", "pgsql")
# libpq options asyncpg does not take: it negotiates channel binding by itself.
_LIBPQ_ONLY = ("channel_binding",)


class DatabaseUrlError(SettingsError):
    """A DATABASE_URL (or --db) of no form chathost knows: says which forms it accepts."""


def async_url(text: str) -> URL:
    """The URL chathost opens for what a person gave; raises DatabaseUrlError."""
    given = text.strip()
    if not given:
        raise DatabaseUrlError(f"the database URL is empty: use {ACCEPTED_FORMS}")
    if "://" not in given:
        return URL.create(_SQLITE, database=str(Path(given).expanduser()))
    try:
        url = make_url(given)
    except (ArgumentError, ValueError) as exc:
        raise _unknown(given) from exc
    backend, _, _driver = url.drivername.partition("+")
    if backend == "sqlite":
        return url.set(drivername=_SQLITE)
    if backend in _POSTGRES_NAMES:
        return _postgres(url)
    raise _unknown(given)


def _postgres(url: URL) -> URL:
    query = dict(url.query)
    sslmode = query.pop("sslmode", None)
    if sslmode is not None and "ssl" not in query:
        query["ssl"] = sslmode
    for name in _LIBPQ_ONLY:
        query.pop(name, None)
    return url.set(drivername=_POSTGRES, query=query)


def _unknown(given: str) -> DatabaseUrlError:
    return DatabaseUrlError(
        f"{shown_url(given)} is not a database URL chathost can open: use {ACCEPTED_FORMS}"
    )


def shown_url(text: str) -> str:
    """The URL as it may be printed or logged: any password masked (a bare path as given)."""
    if "://" not in text:
        return text.strip()
    try:
        return make_url(text.strip()).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "the given database URL" if "@" in text else repr(text)


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (None for other databases and in-memory ones)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
