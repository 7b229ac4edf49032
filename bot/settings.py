"""Settings from the environment (and an optional .env file). Secrets never leave here in logs.

Kept inside the package (not a top-level ``config`` module) so it installs with it; the
``config/`` folder holds the files people edit or paste: the plan schema and app manifests.
"""

from __future__ import annotations

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///chathost.db"

TOKENS_BY_PLATFORM = {
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
    "discord": ("DISCORD_TOKEN",),
}


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

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_client_id: str | None = None
    discord_guild_ids: str = ""
    discord_host_role: str = ""
    discord_shards: str = ""
    discord_sync_commands: bool = True

    def secret_values(self) -> list[str]:
        """Every secret's value, for the log mask: tokens, the signing secret, the archive
        token and the database password."""
        from bot.logging_setup import database_password

        values = [
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.discord_token,
            self.archive_token,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        password = database_password(self.database_url)
        return [*found, password] if password else found

    def missing_tokens(self, platform: str, *, slack_mode: str = "socket") -> list[str]:
        """Environment variables a platform needs that are unset, by name."""
        names = list(TOKENS_BY_PLATFORM.get(platform, ()))
        if platform == "slack" and slack_mode == "http":
            names = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
        return [n for n in names if not getattr(self, n.lower())]


def load_settings() -> Settings:
    """The settings, or a SettingsError naming each variable that cannot be read
    (``LOG_JSON=maybe``) instead of pydantic's traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"cannot read the settings (environment or .env): {problems}") from None
