"""The Telegram adapter's settings: TELEGRAM_* variables, the environment or ``.env``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org/bot"


class TelegramSettings(BaseSettings):
    """The bot token from BotFather; in webhook mode also the secret Telegram sends back on
    every request and the public address it posts to."""

    model_config = SettingsConfigDict(
        env_prefix="TELEGRAM_", env_file=".env", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    # The Bot API base the token is appended to: a local Bot API server or a proxy works.
    api_url: str = DEFAULT_API_URL
    webhook_secret: SecretStr | None = None
    # Where Telegram posts the updates in webhook mode (https, as Telegram requires); unset:
    # the webhook was registered by hand and is left as it is.
    webhook_url: str | None = None
    # Administrators of a chat's group host it when the plan lists ``role:admins``; Telegram
    # is asked again after this many seconds.
    admins_ttl: float = 300.0

    @property
    def file_url(self) -> str:
        """The file base PTB wants next to the API base (``.../bot`` -> ``.../file/bot``)."""
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"
