"""Mistakes a user can fix, and outages they must wait out: each ends the command line with
one line on stderr and a documented exit code (the README's table), never a traceback.

Every expected failure that reaches ``chathost``'s error boundary (``bot/cli.py``) is a
``UserError``; anything else is a bug and keeps its traceback (shown with ``--debug``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of every ``chathost`` subcommand; the README's table lists the same."""

    OK = 0
    BAD_INPUT = 1  # a plan or replies file, an unknown chat or run
    BAD_SETTINGS = 2  # bad arguments, a missing token, a database URL of no known form
    UNHEALTHY = 3  # ``chathost health``: the database or its schema is not ready
    DATABASE = 4  # the database cannot be reached, or holds no chathost data
    PLATFORM = 5  # a platform's API cannot be reached when starting
    INTERRUPTED = 130  # Ctrl-C


class UserError(Exception):
    """A failure the user can act on; its text says what is wrong and how to fix it."""

    exit_code: ExitCode = ExitCode.BAD_INPUT


class SettingsError(UserError):
    """An argument or setting (environment, .env) that cannot work as given."""

    exit_code = ExitCode.BAD_SETTINGS


class DatabaseUnavailable(UserError):
    """The database does not answer, or holds no chathost data where some is needed."""

    exit_code = ExitCode.DATABASE


class PlatformUnreachable(UserError):
    """A platform's API could not be reached at start: names the platform and the URL."""

    exit_code = ExitCode.PLATFORM

    def __init__(self, platform: str, url: str, reason: str) -> None:
        self.platform = platform
        self.url = url
        self.reason = reason
        super().__init__(
            f"cannot reach {platform} at {url}: {reason}. Check the network, or the "
            f"{platform.upper()}_API_URL setting if you use one."
        )
