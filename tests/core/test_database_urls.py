"""Database URLs in the forms hosting platforms and tutorials hand out all open the same
async drivers; anything else is one line naming the forms accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ExitCode
from bot.core.store import open_store
from bot.core.store.urls import DatabaseUrlError, async_url, shown_url


@pytest.mark.parametrize(
    ("given", "opened"),
    [
        ("sqlite:///chathost.db", "sqlite+aiosqlite:///chathost.db"),
        ("sqlite:////srv/data/chathost.db", "sqlite+aiosqlite:////srv/data/chathost.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("chathost.db", "sqlite+aiosqlite:///chathost.db"),
        ("/srv/data/chathost.db", "sqlite+aiosqlite:////srv/data/chathost.db"),
        ("postgres://u:pw@db.example.org:5432/chat", "postgresql+asyncpg://u:pw@db.example.org:5432/chat"),
        ("postgresql://u:pw@db/chat", "postgresql+asyncpg://u:pw@db/chat"),
        ("postgresql+asyncpg://u:pw@db/chat", "postgresql+asyncpg://u:pw@db/chat"),
        ("postgres://u:pw@db/chat?sslmode=require", "postgresql+asyncpg://u:pw@db/chat?ssl=require"),
        (
            "postgresql://u:pw@ep-x.neon.tech/db?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:pw@ep-x.neon.tech/db?ssl=require",
        ),
    ],
)
def test_pasted_urls_open_the_async_driver(given: str, opened: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == opened


@pytest.mark.parametrize("given", ["mysql://u:pw@db/chat", "http://example.org/db", "", "  "])
def test_other_urls_get_one_line_naming_the_accepted_forms(given: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        async_url(given)
    text = str(caught.value)
    assert "\n" not in text and "postgres://USER:PASS@HOST" in text and "sqlite:///" in text
    assert "pw" not in text  # the password is never repeated back
    assert caught.value.exit_code == ExitCode.BAD_SETTINGS


def test_passwords_are_masked_when_a_url_is_shown() -> None:
    assert shown_url("postgres://u:hunter2@db/chat") == "postgres://u:***@db/chat"
    assert shown_url("data/chathost.db") == "data/chathost.db"


async def test_a_bare_path_and_a_postgres_style_sqlite_url_open_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "chathost.db"
    store = await open_store(str(path))
    await store.close()
    again = await open_store(f"sqlite:///{path}", create=False)  # finds the tables it made
    await again.close()
    assert path.is_file()
