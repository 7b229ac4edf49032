"""Settings from the environment (and an optional .env file). Secrets never leave here in logs.

Kept inside the package (not a top-level ``config`` module) so it installs with it; the
``config/`` folder holds the files people edit or paste: the plan schema and app manifests.

Only chathost's own settings live here. Each platform declares its own pydantic-settings model
with its env prefix (``SLACK_``, ``DISCORD_``; see ``bot.platforms``), read through
:meth:`Settings.platform_settings`, so a new platform adds no field to this file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import PrivateAttr, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import SettingsError

if TYPE_CHECKING:
    from bot.platforms import PlatformPlugin

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chathost.db"

PlatformSettings = TypeVar("PlatformSettings", bound=BaseSettings)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = DEFAULT_DATABASE_URL
    chats_file: str = "chats.yaml"
    log_level: str = "INFO"
    log_json: bool = False

    # The archive web page: an optional token protects it; the public address lets recaps link
    # to each run's page.
    archive_token: SecretStr | None = None
    public_url: str | None = None

    # A platform's settings given here by their full name (``slack_bot_token=...``, as tests
    # and embedding code do) instead of through the environment.
    _given: dict[str, Any] = PrivateAttr(default_factory=dict)
    _env_file: Any = PrivateAttr(default=None)
    _platforms: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        own = type(self).model_fields
        given = {
            k.lower(): v
            for k, v in values.items()
            if not k.startswith("_") and k.lower() not in own
        }
        super().__init__(**{k: v for k, v in values.items() if k.lower() not in given})
        self._given = given
        # The platforms read the same .env (or none, when this was told to read none).
        self._env_file = values.get("_env_file", type(self).model_config.get("env_file"))

    def platform_settings(self, model: type[PlatformSettings]) -> PlatformSettings:
        """A platform's own settings: its env prefix in the environment or .env, overridden by
        any given to this object by full name. Read once per model."""
        found = self._platforms.get(model)
        if found is None:
            prefix = str(model.model_config.get("env_prefix", "")).lower()
            given = {k[len(prefix) :]: v for k, v in self._given.items() if k.startswith(prefix)}
            try:
                found = model(_env_file=self._env_file, **given)  # type: ignore[call-arg]
            except ValidationError as exc:
                raise SettingsError(_unreadable(exc, prefix)) from None
            self._platforms[model] = found
        return found  # type: ignore[return-value]

    def secret_values(self, platforms: Iterable[PlatformPlugin] | None = None) -> list[str]:
        """Every secret's value, for the log mask: each platform's secrets (tokens, signing
        secrets; every installed platform's by default), the archive token and the database
        password."""
        from bot.logging_setup import database_password
        from bot.platforms import load_platforms

        plugins = load_platforms() if platforms is None else platforms
        found = [value for plugin in plugins for value in plugin.secret_values(self)]
        if self.archive_token is not None:
            found.append(self.archive_token.get_secret_value())
        password = database_password(self.database_url)
        return [*found, password] if password else found


def _unreadable(exc: ValidationError, prefix: str = "") -> str:
    problems = "; ".join(
        f"{prefix.upper()}{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
        for e in exc.errors()
    )
    return f"cannot read the settings (environment or .env): {problems}"


def load_settings() -> Settings:
    """The settings, or a SettingsError naming each variable that cannot be read
    (``LOG_JSON=maybe``) instead of pydantic's traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_unreadable(exc)) from None
