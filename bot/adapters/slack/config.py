"""The Slack adapter's settings: SLACK_* variables, the environment or ``.env``."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    """Socket Mode needs the bot and app tokens, HTTP mode the bot token and signing secret."""

    model_config = SettingsConfigDict(
        env_prefix="SLACK_", env_file=".env", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    # The Web API base, for Slack-compatible endpoints and proxies (keep the trailing /).
    api_url: str | None = None
