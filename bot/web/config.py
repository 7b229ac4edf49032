"""The archive's settings: the database, ARCHIVE_TOKEN and PUBLIC_URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.settings import Settings


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return text or None


@dataclass(frozen=True)
class ArchiveConfig:
    database_url: str
    token: str | None = None
    public_url: str | None = None
    chats_file: str | None = None  # the plan, for the calendar feeds

    @classmethod
    def from_settings(cls, settings: Settings, database_url: str | None = None) -> ArchiveConfig:
        return cls(
            database_url=database_url or settings.database_url,
            token=_secret(settings.archive_token),
            public_url=(settings.public_url or "").rstrip("/") or None,
            chats_file=settings.chats_file,
        )
