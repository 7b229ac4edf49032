"""The Discord adapter's lifecycle: log in, connect inside chathost's own event loop, sync the
slash commands, and on stop let in-flight work finish before closing."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
import discord
import discord.http

from bot.adapters.discord.client import Journal, make_client
from bot.adapters.discord.commands import SlashCommands
from bot.adapters.discord.config import DiscordConfig
from bot.adapters.discord.events import missing_manage_events
from bot.adapters.discord.port import DiscordPort
from bot.adapters.reach import masked_url, network_reason
from bot.core.clock import Clock
from bot.core.errors import ExitCode, PlatformUnreachable, SettingsError, UserError
from bot.core.plan import Plan
from bot.core.ports import PortError
from bot.core.service import ChatService

log = logging.getLogger("chathost.discord")

INTENT_HELP = (
    "Discord refused the Message Content intent: open https://discord.com/developers/"
    "applications -> your app -> Bot -> Privileged Gateway Intents, switch on MESSAGE CONTENT "
    "INTENT, save, and start chathost again."
)


class DiscordStartError(UserError):
    """The bot could not connect; the message says what to fix."""

    exit_code = ExitCode.PLATFORM


class DiscordTokenRefused(DiscordStartError, SettingsError):
    """Discord answered, and refused the token: the setting is wrong, not the network."""

    exit_code = ExitCode.BAD_SETTINGS


class DiscordAdapter:
    """Implements bot.adapters.base.Adapter for Discord."""

    platform = "discord"

    def __init__(self, config: DiscordConfig, plan: Plan, clock: Clock) -> None:
        self.config = config
        self.plan = plan
        self.client, self.inbound = make_client(config, clock)
        self._port = DiscordPort(self.client, config.guild_ids)
        self.commands = SlashCommands(self.client, config, plan, self.inbound.locate_interaction)
        self._task: asyncio.Task[None] | None = None
        self._saved_base: str | None = None

    @property
    def port(self) -> DiscordPort:
        return self._port

    @property
    def journal(self) -> Journal:
        """Recent inbound outcomes (message ids and what became of them)."""
        return self.inbound.journal

    async def start(self, service: ChatService) -> None:
        """Log in, connect in a task of this loop (never ``client.run``), return when ready."""
        self.inbound.service = service
        self.commands.handle = service.on_command
        if self.config.api_url:
            self._saved_base = discord.http.Route.BASE
            discord.http.Route.BASE = self.config.api_url
        await self._login()
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
        self._task.add_done_callback(_report_end)
        await self._wait_ready()
        if self.config.sync_commands:
            await self.commands.sync()
        await self._check_setup()
        log.info("Discord ready (%d servers)", len(self.client.guilds))

    async def _login(self) -> None:
        """The first REST call (``/users/@me``): where an unreachable API or a refused token
        shows, so both end the start with one line (bounded by ``ready_timeout``: discord.py
        itself would retry a server error for a while and wait on a silent host forever)."""
        url = masked_url(self.config.api_url or discord.http.Route.BASE)
        try:
            await asyncio.wait_for(self.client.login(self.config.token), self.config.ready_timeout)
        except discord.LoginFailure:
            await self._close()
            raise DiscordTokenRefused(
                "Discord refused DISCORD_TOKEN: copy the bot token again (Bot -> Reset Token)"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._close()
            reason = network_reason(exc, self.config.ready_timeout)
            raise PlatformUnreachable("discord", url, reason) from None
        except discord.HTTPException as exc:  # a 5xx past discord.py's retries, a proxy's page
            await self._close()
            reason = f"it answered HTTP {exc.status}"
            raise PlatformUnreachable("discord", url, reason) from None

    async def _check_setup(self) -> None:
        """Say at start-up, not at the first question, what the plan needs and is missing."""
        for guild_id in self.config.guild_ids:
            if self.client.get_guild(guild_id) is None:
                log.warning(
                    "the bot is not in server %s (DISCORD_GUILD_IDS): invite it with the URL "
                    "from chathost discord-invite",
                    guild_id,
                )
        for chat in self.plan.chats:
            if chat.platform == self.platform:
                try:
                    await self._port.resolve_channel(chat.channel)
                except PortError as exc:
                    log.warning("chat %s: %s", chat.id, exc)
        mine = [c for c in self.plan.chats if c.platform == self.platform]
        for line in await missing_manage_events(self._port, mine):
            log.warning("%s", line)

    async def _wait_ready(self) -> None:
        assert self._task is not None
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=self.config.ready_timeout, return_when="FIRST_COMPLETED"
        )
        if ready in done:
            return
        ready.cancel()
        error = self._task.exception() if self._task in done else None
        await self.stop()
        if isinstance(error, discord.PrivilegedIntentsRequired):
            raise DiscordStartError(INTENT_HELP) from error
        if error is not None:
            raise DiscordStartError(f"could not connect to Discord: {error}") from error
        raise DiscordStartError(f"Discord was not ready after {self.config.ready_timeout:.0f}s")

    async def stop(self) -> None:
        """Let posts and event handlers in flight finish (bounded), then disconnect."""
        self._port.closing = True
        for activity in (self._port.activity, self.inbound.activity):
            if not await activity.wait_idle(self.config.stop_timeout):
                log.warning(
                    "Discord work still running after %ss; closing anyway",
                    self.config.stop_timeout,
                )
        await self._close()

    async def _close(self) -> None:
        await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
            self._task = None
        if self._saved_base is not None:
            discord.http.Route.BASE = self._saved_base
            self._saved_base = None


def _report_end(task: asyncio.Task[None]) -> None:
    """A gateway connection that dies for good is logged loudly rather than lost."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("the Discord connection stopped: %s", error, exc_info=error)
