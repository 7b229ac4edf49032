"""The slack-bolt AsyncApp: which Slack requests chathost listens to, and where they go.

Listeners only hand work on (events to the inbound queue, commands to a background task), so
``process_before_response=True`` costs nothing: bolt answers Slack right after they return,
well inside the 3-second limit, and the order of work is the order of arrival.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.commands import COMMANDS, HIGHLIGHT_SHORTCUT, SlashCommands
from bot.adapters.slack.inbound import Inbound

log = logging.getLogger("chathost.slack.app")

# Events the manifest subscribes to; each must have a listener or bolt logs "unhandled".
EVENTS = (
    "message",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "channel_rename",
    "user_change",
)


def build_bolt_app(
    client: AsyncWebClient,
    inbound: Inbound,
    commands: SlashCommands,
    *,
    signing_secret: str | None,
    socket_mode: bool,
) -> AsyncApp:
    app = AsyncApp(
        client=client,  # the token must be on the client: AsyncApp ignores token= with client=
        signing_secret=signing_secret or "",
        # Socket Mode requests arrive over an authenticated socket and carry no signature.
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        logger=logging.getLogger("chathost.slack.bolt"),
    )

    async def on_event(body: dict[str, Any], request: AsyncBoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num", [None])[0]
        inbound.accept(body, retry)

    for name in EVENTS:
        app.event(name)(on_event)

    async def on_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await commands.on_command(ack, body, respond)

    for command in COMMANDS:
        app.command(command)(on_command)

    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await commands.on_shortcut(ack, body, respond)

    app.shortcut(HIGHLIGHT_SHORTCUT)(on_shortcut)

    @app.error
    async def on_error(error: Exception, body: Mapping[str, Any] | None = None) -> None:
        event_id = body.get("event_id") if isinstance(body, Mapping) else None
        log.error("Slack request %s failed: %r", event_id or "?", error, exc_info=error)

    return app
