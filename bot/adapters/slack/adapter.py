"""SlackAdapter: the Adapter protocol for Slack, in Socket Mode (default) or HTTP mode.

Socket Mode needs no public URL (SLACK_APP_TOKEN); HTTP mode serves the Events API, slash
commands and interactivity on one path, ``/slack/events``, verified with SLACK_SIGNING_SECRET.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import EVENTS, build_bolt_app
from bot.adapters.slack.commands import SlashCommands
from bot.adapters.slack.directory import Directory
from bot.adapters.slack.http import EventsEndpoint
from bot.adapters.slack.inbound import Inbound
from bot.adapters.slack.port import SlackPort
from bot.adapters.slack.reach import check_api_url, start_errors
from bot.adapters.slack.send_queue import SLACK_MESSAGE_INTERVAL, SendQueue, Sleep
from bot.adapters.slack.tasks import TaskSet
from bot.core.clock import Clock
from bot.core.errors import SettingsError
from bot.core.service import ChatService

log = logging.getLogger("chathost.slack")

Mode = Literal["socket", "http"]
SLACK_API_URL = "https://slack.com/api/"
EVENTS_PATH = "/slack/events"
STOP_TIMEOUT = 30.0  # seconds stop() lets queued posts and commands finish
# slack_sdk's default: how often Socket Mode pings, notices a dead socket and tries again.
SOCKET_PING_INTERVAL = 10.0


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        clock: Clock,
        *,
        bot_token: str,
        app_token: str | None = None,
        signing_secret: str | None = None,
        api_url: str | None = None,
        mode: Mode = "socket",
        host: str = "0.0.0.0",
        port: int = 3000,
        send_interval: float = SLACK_MESSAGE_INTERVAL,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if mode == "socket" and not app_token:
            raise ValueError("Socket Mode needs SLACK_APP_TOKEN (an xapp- token)")
        if mode == "http" and not signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET")
        self.clock = clock
        self.mode = mode
        self.host = host
        self.listen_port = port
        self._app_token = app_token
        base_url = api_url or SLACK_API_URL
        check_api_url(base_url)
        if not base_url.endswith("/"):
            base_url += "/"  # slack_sdk silently drops the last path part without it
        self.api_url = base_url
        self.client = AsyncWebClient(token=bot_token, base_url=base_url)
        self.queue = SendQueue(interval=send_interval, sleep=sleep)
        self.directory = Directory(self.client, sleep=sleep)
        self.tasks = TaskSet()
        self.inbound = Inbound(self.directory)
        self.commands = SlashCommands(self.client, self.directory, clock, self.tasks)
        self.app = build_bolt_app(
            self.client,
            self.inbound,
            self.commands,
            signing_secret=signing_secret,
            socket_mode=mode == "socket",
        )
        self.endpoint = EventsEndpoint(self.app, signing_secret, EVENTS) if signing_secret else None
        self._port = SlackPort(self.client, self.queue, self.directory)
        self._handler: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self.bot_user_id = ""
        self.url: str | None = None  # HTTP mode: where Slack should send requests
        self.socket_ping_interval = SOCKET_PING_INTERVAL

    @property
    def port(self) -> SlackPort:
        return self._port

    async def start(self, service: ChatService) -> None:
        """Check the token, then connect (Socket Mode) or listen (HTTP mode). Raises
        PlatformUnreachable or SettingsError, before anything was started."""
        async with start_errors(self.api_url, "SLACK_BOT_TOKEN", self.client.timeout):
            auth = await self.client.auth_test()  # fails fast on a wrong or revoked token
        self.bot_user_id = str(auth.get("user_id") or "")
        if self.mode == "socket":
            await self._connect()
        else:
            await self._listen()
        self.inbound.start(service, self.bot_user_id)
        self.commands.service = service
        if self.mode == "socket":
            log.info("Slack connected in Socket Mode as %s (%s)", auth.get("user"), auth["team"])

    async def _connect(self) -> None:
        """The socket's URL is asked for here, not by slack_sdk's connect loop: that loop
        retries every error forever (a refused app token too), logging a traceback each time.
        Once connected, its reconnects are slack_sdk's."""
        self._handler = AsyncSocketModeHandler(
            self.app, app_token=self._app_token, ping_interval=self.socket_ping_interval
        )
        async with start_errors(self.api_url, "SLACK_APP_TOKEN", self.client.timeout):
            opened = await self.client.apps_connections_open(app_token=self._app_token or "")
        self._handler.client.wss_uri = str(opened["url"])
        await self._handler.connect_async()

    async def _listen(self) -> None:
        assert self.endpoint is not None, "HTTP mode needs the signing secret (checked above)"
        self._runner = web.AppRunner(
            self.endpoint.web_app(EVENTS_PATH), shutdown_timeout=5.0, access_log=None
        )
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.listen_port).start()
        except OSError as exc:  # the port is taken, or the address is not this machine's
            await self._runner.cleanup()
            self._runner = None
            raise SettingsError(
                f"cannot listen on {self.host}:{self.listen_port} for Slack ({exc.strerror}): "
                "choose another --port"
            ) from None
        bound = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{bound}{EVENTS_PATH}"
        log.info("Slack HTTP mode listening on %s", self.url)

    async def drain(self) -> None:
        """Await until every received event and command has been handled (tests use it)."""
        while self.inbound.pending or len(self.tasks):
            await self.inbound.join()
            await self.tasks.join()
        await self.inbound.join()

    async def stop(self) -> None:
        """Stop receiving, let received work and queued posts finish, then disconnect."""
        if self._handler is not None:
            await self._handler.close_async()
            self._handler = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.inbound.stop(STOP_TIMEOUT)
        if not await self.tasks.join(STOP_TIMEOUT):
            log.warning("stopping with %d Slack commands unfinished", len(self.tasks))
            await self.tasks.cancel()
        if not await self.queue.wait_idle(STOP_TIMEOUT):
            log.warning("stopping with %d Slack posts unsent", self.queue.in_flight)
