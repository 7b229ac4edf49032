"""Logging: readable lines or JSON for log collectors; known secrets are masked everywhere.

The mask works on the final text of each record (message, arguments, traceback, stack), so a
token that reaches a log line by any route, a library's debug output or an exception's text,
is replaced. Uncaught exceptions are routed through logging too, so they are masked as well.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

REDACTED = "[redacted]"
QUIET_LOGGERS = ("sqlalchemy.engine", "aiosqlite", "asyncpg", "apscheduler", "alembic")
# Shorter values would mask ordinary words; real tokens are far longer.
MIN_SECRET_LENGTH = 6
# A secret in a URL's query (``GET /runs/1?token=...`` in an access log): masked whatever its
# value, a wrong guess included, since it is not a known secret.
_QUERY_SECRET = re.compile(
    r"([?&;](?:token|access_token|api_key|key|secret|password)=)[^&\s\"'#]+", re.IGNORECASE
)


class RedactSecrets(logging.Filter):
    """Replaces any secret's value in a record's final text, whatever logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        found = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        self.secrets = sorted(found, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if "=" in text:
            text = _QUERY_SECRET.sub(rf"\1{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad %-arguments: keep what we can, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the shape most log collectors parse without configuration."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_text or record.exc_info:
            data["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False)


def database_password(url: str) -> str | None:
    """The password inside a DATABASE_URL, which is as secret as a token."""
    try:
        password = make_url(url).password
    except Exception:
        return None
    return str(password) if password else None


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("chathost").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def setup_logging(
    level: str = "INFO", *, as_json: bool = False, secrets: Iterable[str] = ()
) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(secrets))
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # At DEBUG these would log every SQL statement with its values (people's messages) and
    # every scheduler wake-up; chathost's own loggers say what matters. Opt in by name.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Tracebacks Python would print itself bypass handlers (and the mask): log them instead.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
