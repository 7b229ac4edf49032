"""The Telegram adapter's lifecycle: check the token and the privacy mode, register the command
menus, then take updates by long polling (default) or on a webhook.

Why plain ``telegram.Bot`` and not PTB's ``Application``: chathost's runner owns the event loop
and the start/stop order of every platform, and the core's ChatService is the one inbound door.
``Application`` wants to own both (its own polling loop, update queue, handler tasks and
signal handling in ``run_polling``/``run_webhook``), and its ``Updater`` parses a whole batch
of updates at once, so one malformed update would fail the batch and stall the offset. Here
the getUpdates loop and the webhook server are ours: each update is parsed alone, handled in
update_id order, and confirmed (the next offset) only after the core has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from telegram import Bot, ChatMember
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot.adapters.reach import masked_url
from bot.adapters.telegram import commands
from bot.adapters.telegram.config import TelegramSettings
from bot.adapters.telegram.hosts import Admins, People, wants_admins
from bot.adapters.telegram.inbound import ALLOWED_UPDATES, Inbound, Journal
from bot.adapters.telegram.port import TelegramPort
from bot.adapters.telegram.send_queue import SendQueue, Sleep
from bot.core.clock import Clock
from bot.core.errors import ExitCode, PlatformUnreachable, SettingsError, UserError
from bot.core.plan import Plan
from bot.core.ports import PortError
from bot.core.service import ChatService

log = logging.getLogger("chathost.telegram")

PRIVACY_HELP = (
    "Telegram privacy mode is on and the bot is not an admin of {chats}, so it only sees "
    "commands there, not answers: in @BotFather send /setprivacy, pick the bot, choose "
    "Disable (then remove and re-add it to the group), or make the bot an admin of the group."
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# _poll calls getUpdates raw on purpose (each update is parsed alone, see the module's
# docstring); PTB would print a warning suggesting Bot.get_updates on every poll.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)


def quiet_http_log() -> None:
    """httpx, under python-telegram-bot, logs every request at INFO: a line every long poll
    and every message sent. The token in those URLs is masked, but the lines drown what
    chathost says; they show again at DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)


class TelegramStartError(UserError):
    """The bot could not start; the message says what to fix."""

    exit_code = ExitCode.PLATFORM


class TelegramTokenRefused(TelegramStartError, SettingsError):
    """Telegram answered, and refused the token: the setting is wrong, not the network."""

    exit_code = ExitCode.BAD_SETTINGS


@dataclass(frozen=True)
class TelegramOptions:
    mode: Literal["polling", "webhook"] = "polling"
    port: int = 8443
    host: str = "0.0.0.0"
    path: str = "/telegram"
    poll_timeout: int = 30  # seconds a getUpdates long poll waits for news
    stop_timeout: float = 10.0
    delete_after: float = 60.0  # a private answer left in a group is deleted after this
    retry_delay: float = 2.0  # after a failed getUpdates


class TelegramAdapter:
    """Implements bot.adapters.base.Adapter for Telegram."""

    platform = "telegram"

    def __init__(
        self,
        settings: TelegramSettings,
        plan: Plan,
        clock: Clock,
        options: TelegramOptions | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        if not token:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set (the token from @BotFather)")
        self.settings = settings
        self.options = options or TelegramOptions()
        self.plan = plan
        self.clock = clock
        self._sleep = sleep
        self.bot = Bot(
            token,
            base_url=settings.api_url,
            base_file_url=settings.file_url,
            request=HTTPXRequest(connection_pool_size=32),
        )
        self.people = People()
        self.queue = SendQueue(sleep=sleep, monotonic=monotonic)
        self._port = TelegramPort(self.bot, self.queue, plan, self.people)
        admins = Admins(
            self.bot, enabled=wants_admins(plan), ttl=settings.admins_ttl, monotonic=monotonic
        )
        self.inbound = Inbound(
            self.bot, self._port, admins, self.people, delete_after=self.options.delete_after
        )
        self._poller: asyncio.Task[None] | None = None
        self._site: web.AppRunner | None = None
        self._stopping = False

    @property
    def port(self) -> TelegramPort:
        return self._port

    @property
    def journal(self) -> Journal:
        return self.inbound.journal

    def _chats(self) -> list[str]:
        return [c.channel for c in self.plan.chats if c.platform == self.platform]

    async def start(self, service: ChatService) -> None:
        quiet_http_log()
        self.inbound.service = service
        await self._connect()
        groups = await self._groups()
        await self._check_privacy(groups)
        await commands.register(self.bot, list(groups.values()))
        if self.options.mode == "webhook":
            await self._start_webhook()
        else:
            await self._call("deleteWebhook", self.bot.delete_webhook())
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        log.info("Telegram ready as @%s (%s)", self.bot.username, self.options.mode)

    async def _connect(self) -> None:
        """getMe: where a refused token or an unreachable API shows, each in one line."""
        try:
            await self.bot.initialize()
        except InvalidToken:
            raise TelegramTokenRefused(
                "Telegram refused TELEGRAM_BOT_TOKEN: copy it again from @BotFather (/token)"
            ) from None
        except (NetworkError, TelegramError) as exc:
            url = masked_url(self.settings.api_url)
            raise PlatformUnreachable("telegram", url, exc.message) from None

    async def _groups(self) -> dict[str, int]:
        """The plan's groups by their numeric ids; one the bot cannot see is named now."""
        found = {}
        for channel in self._chats():
            try:
                found[channel] = await self._port.resolve(channel)
            except PortError as exc:
                log.warning("Telegram group %s: %s", channel, exc)
        return found

    async def _check_privacy(self, groups: dict[str, int]) -> None:
        """With privacy mode on, a bot that is not an admin sees only commands: say exactly
        what to change instead of silently missing every answer."""
        if self.bot.bot.can_read_all_group_messages:
            return
        blind = []
        for channel, chat_id in groups.items():
            try:
                member = await self.bot.get_chat_member(chat_id, self.bot.id)
            except TelegramError:
                blind.append(channel)
                continue
            if member.status not in (ChatMember.ADMINISTRATOR, ChatMember.OWNER):
                blind.append(channel)
        if blind or not groups:
            log.warning(PRIVACY_HELP.format(chats=", ".join(blind) or "its groups"))

    async def _call(self, what: str, call: Awaitable[object]) -> None:
        try:
            await call
        except TelegramError as exc:
            log.warning("Telegram %s failed: %s", what, exc)

    # polling

    async def _poll(self) -> None:
        """getUpdates in a loop; the offset moves past an update once it was handled, so a
        crash replays at most the batch in hand (and a repeat is stored once)."""
        offset: int | None = None
        timeout = self.options.poll_timeout
        while not self._stopping:
            try:
                batch = await self.bot.do_api_request(
                    "getUpdates",
                    api_kwargs={
                        "offset": offset,
                        "timeout": timeout,
                        "allowed_updates": list(ALLOWED_UPDATES),
                    },
                    read_timeout=timeout + 10,
                )
            except asyncio.CancelledError:
                raise
            except Conflict:
                log.error("Telegram says a webhook is set or another process polls this bot")
                await self._sleep(self.options.retry_delay * 5)
                continue
            except TelegramError as exc:
                log.warning("getUpdates failed (%s); trying again", exc)
                await self._sleep(self.options.retry_delay)
                continue
            for data in batch if isinstance(batch, list) else ():
                update_id = data.get("update_id") if isinstance(data, dict) else None
                await self.inbound.handle_raw(data)
                if isinstance(update_id, int):
                    offset = max(offset or 0, update_id + 1)

    # the webhook

    async def _start_webhook(self) -> None:
        secret = self.settings.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise SettingsError("webhook mode needs TELEGRAM_WEBHOOK_SECRET (any long random text)")
        app = web.Application()
        app.router.add_post(self.options.path, self._on_webhook)
        self._site = web.AppRunner(app, access_log=None)
        await self._site.setup()
        await web.TCPSite(self._site, self.options.host, self.options.port).start()
        if self.settings.webhook_url:
            await self.bot.set_webhook(
                self.settings.webhook_url,
                secret_token=secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
            )

    @property
    def webhook_port(self) -> int | None:
        """The port the webhook listens on (``--port 0`` picks a free one, for tests)."""
        if self._site is None:
            return None
        for address in self._site.addresses:
            return int(address[1])
        return None

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Telegram's secret on every request; wrong or missing: 401 and nothing handled."""
        secret = self.settings.webhook_secret
        expected = secret.get_secret_value() if secret else ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.Response(status=401, text="Unauthorized")
        try:
            data = await request.json()
        except ValueError:
            log.warning("skipped a webhook request that was not JSON")
            return web.Response(status=200)
        await self.inbound.handle_raw(data)
        return web.Response(status=200)

    # stopping

    async def stop(self) -> None:
        """Stop taking updates, let posts in flight finish (bounded), then disconnect."""
        self._stopping = True
        for _ in range(int(self.options.stop_timeout * 20)):  # the update in hand, finished
            if not self.inbound.busy:
                break
            await asyncio.sleep(0.05)
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
            self._poller = None
        if self._site is not None:
            await self._site.cleanup()
            self._site = None
        if not await self.queue.wait_idle(self.options.stop_timeout):
            log.warning(
                "Telegram sends still queued after %ss; closing anyway", self.options.stop_timeout
            )
        self._port.closing = True
        await self.inbound.drop_cleanups()
        with contextlib.suppress(Exception):
            await self.bot.shutdown()
