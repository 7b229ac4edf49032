"""The Discord adapter's configuration: DISCORD_* variables, read once and checked.

``DiscordSettings`` reads them (the environment or ``.env``, through the platform's own env
prefix); ``DiscordConfig`` turns them into checked values with errors that say what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import SettingsError
from bot.settings import Settings

DEFAULT_API_URL = "https://discord.com/api/v10"


class ConfigError(SettingsError, ValueError):
    """A DISCORD_* variable is set to something the adapter cannot use; says which and why."""


class DiscordSettings(BaseSettings):
    """The DISCORD_* variables as given; ``DiscordConfig`` checks them."""

    model_config = SettingsConfigDict(
        env_prefix="DISCORD_", env_file=".env", extra="ignore", case_sensitive=False
    )

    token: SecretStr | None = None
    api_url: str | None = None
    gateway_url: str | None = None
    client_id: str | None = None
    guild_ids: str = ""
    host_role: str = ""
    shards: str = ""
    sync_commands: bool = True


@dataclass(frozen=True)
class DiscordConfig:
    token: str
    # REST base for discord.py's Route.BASE, e.g. a REST proxy for large bots; None: Discord's.
    api_url: str | None = None
    # Gateway to dial instead of Discord's (a gateway proxy); None: Discord's default.
    gateway_url: str | None = None
    # Guilds whose events count and where slash commands are synced; empty: all, global sync.
    guild_ids: tuple[int, ...] = ()
    # Role names or ids whose members count as hosts, besides the plan's hosts.
    host_roles: tuple[str, ...] = ()
    client_id: str | None = None
    # None: one connection; "auto": Discord's recommended shard count; N: that many shards.
    shards: int | Literal["auto"] | None = None
    # Overwrite the application commands at start-up (bulk PUT; cheap and idempotent).
    sync_commands: bool = True
    # Discord wants a first answer to an interaction within 3 s; past this budget we defer.
    ack_budget: float = 1.5
    # discord.py waits this long after the last GUILD_CREATE before on_ready (its default 2 s).
    guild_ready_timeout: float = 2.0
    ready_timeout: float = 60.0
    stop_timeout: float = 10.0
    # A rate limit longer than this is raised (the engine retries) instead of slept through.
    max_ratelimit_timeout: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig:
        return cls.from_discord_settings(settings.platform_settings(DiscordSettings))

    @classmethod
    def from_discord_settings(cls, given: DiscordSettings) -> DiscordConfig:
        if given.token is None or not given.token.get_secret_value():
            raise ConfigError("DISCORD_TOKEN is not set (the bot token from the developer portal)")
        roles = given.host_role.split(",")
        return cls(
            token=given.token.get_secret_value().strip(),
            api_url=normalise_api_url(given.api_url),
            gateway_url=(given.gateway_url or "").strip() or None,
            guild_ids=parse_ids(given.guild_ids, "DISCORD_GUILD_IDS"),
            host_roles=tuple(r.strip() for r in roles if r.strip()),
            client_id=(given.client_id or "").strip() or None,
            shards=parse_shards(given.shards),
            sync_commands=given.sync_commands,
        )


def parse_ids(text: str, name: str) -> tuple[int, ...]:
    """``"123, 456"`` -> (123, 456); anything that is not a snowflake is an error."""
    ids = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(f"{name}: {part!r} is not a Discord id (right-click -> Copy ID)")
        ids.append(int(part))
    return tuple(ids)


def parse_shards(text: str) -> int | Literal["auto"] | None:
    text = text.strip().lower()
    if text in ("", "0", "off", "no", "false"):
        return None
    if text == "auto":
        return "auto"
    if text.isdigit():
        return int(text)
    raise ConfigError(f"DISCORD_SHARDS: {text!r} should be auto or a number of shards")


def normalise_api_url(url: str | None) -> str | None:
    """discord.py's Route.BASE includes the API version: add ``/api/v10`` if it is missing."""
    if not url or not url.strip():
        return None
    url = url.strip().rstrip("/")
    return url if re.search(r"/api/v\d+$", url) else f"{url}/api/v10"
