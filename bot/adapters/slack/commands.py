"""Slash commands and the "Highlight in recap" message shortcut: acknowledged at once (Slack
allows 3 seconds), then run and answered. The core's command table parses the text; this
module only reads Slack's message links into ids (``message_ts``).

The answer goes through the command's ``response_url`` (ephemeral: only the caller sees it;
``in_channel`` for the core's public replies). Should that fail, chat.postEphemeral says it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import reply_text
from bot.adapters.slack.directory import Directory
from bot.adapters.slack.tasks import TaskSet
from bot.adapters.slack.translate import PLATFORM, MalformedEvent, mapping_field, text_field
from bot.core.clock import Clock
from bot.core.commands import COMMANDS as TABLE
from bot.core.commands import CommandSpec, command_named, message_ids
from bot.core.events import Command, CommandReply
from bot.core.service import ChatService

log = logging.getLogger("chathost.slack.commands")

# What slash command payloads say instead of a name for private channels and DMs.
PLACEHOLDER_CHANNEL_NAMES = frozenset({"", "privategroup", "directmessage"})
COMMANDS = tuple(sorted(f"/{spec.name}" for spec in TABLE))
def shortcut_id(spec: CommandSpec) -> str:
    """The callback id of the message shortcut that runs ``spec`` on a message."""
    return f"chathost_{spec.name}"


# The message shortcuts (callback id -> command), each running its command on the message it
# was opened on; the manifest declares the same ones.
SHORTCUTS = {shortcut_id(spec): spec.name for spec in TABLE if spec.menu}
HIGHLIGHT_SHORTCUT = "chathost_highlight"
# A message link (Copy link): .../archives/C0100/p1700000000000100 is message ts 1700000000.000100
_PERMALINK = re.compile(r"/archives/[A-Z0-9]+/p(\d{10})(\d{6})")

Ack = Callable[..., Awaitable[Any]]
Respond = Callable[..., Awaitable[Any]]


def message_ts(word: str) -> str | None:
    """The message a Slack link (Copy link) names, as its ts (Slack's message id)."""
    link = _PERMALINK.search(word)
    return f"{link.group(1)}.{link.group(2)}" if link else None


class SlashCommands:
    def __init__(
        self, client: AsyncWebClient, directory: Directory, clock: Clock, tasks: TaskSet
    ) -> None:
        self.client = client
        self.directory = directory
        self.clock = clock
        self.tasks = tasks
        self.service: ChatService | None = None

    async def on_command(self, ack: Ack, body: Mapping[str, Any], respond: Respond) -> None:
        """The bolt listener: ack first, then do the work in the background."""
        await ack()  # Slack shows an error if a command is not acknowledged within 3 seconds
        name = str(body.get("command", "?"))
        self.tasks.spawn(self.run(body, respond), name=f"slack-command {name}")

    async def on_shortcut(self, ack: Ack, body: Mapping[str, Any], respond: Respond) -> None:
        """A message shortcut ("Highlight in recap"): ack, then run it as /highlight."""
        await ack()
        self.tasks.spawn(self.run(body, respond), name="slack-shortcut highlight")

    async def run(self, body: Mapping[str, Any], respond: Respond) -> CommandReply | None:
        try:
            if body.get("type") == "message_action":
                command = await self.shortcut_to_command(body)
            else:
                command = await self.to_command(body)
        except MalformedEvent as exc:
            log.warning("slash command skipped: malformed (%s)", exc)
            return None
        assert self.service is not None, "the adapter binds the service on start"
        try:
            reply = await self.service.on_command(command)
        except Exception:
            log.exception("/%s by %s failed", command.name, command.user.name)
            reply = CommandReply(False, f"Sorry, /{command.name} failed. Please try again.")
        await self.answer(body, reply, respond)
        return reply

    async def to_command(self, body: Mapping[str, Any]) -> Command:
        name = text_field(body, "command").lstrip("/")
        user_id = text_field(body, "user_id")
        channel_id = text_field(body, "channel_id")
        handle = text_field(body, "user_name", required=False)
        # Hosts may be listed by id, handle or display name: the directory's User has all.
        user = await self.directory.user(user_id, handle)
        channel_name = text_field(body, "channel_name", required=False)
        if channel_name not in PLACEHOLDER_CHANNEL_NAMES:
            # saves a conversations.info; names known from Slack's own answers win
            self.directory.remember_channel(channel_id, channel_name, replace=False)
        channel = await self.directory.channel(channel_id)
        text = text_field(body, "text", required=False).strip()
        args = message_ids(command_named(name), text, message_ts)
        return Command(PLATFORM, channel, user, name, self.clock.now(), args)

    async def shortcut_to_command(self, body: Mapping[str, Any]) -> Command:
        """A ``message_action`` payload as its command (/highlight) run on its message (the
        ts is the message's id)."""
        who, where = mapping_field(body, "user"), mapping_field(body, "channel")
        user = await self.directory.user(
            text_field(who, "id"), text_field(who, "username", required=False)
        )
        channel = await self.directory.channel(text_field(where, "id"))
        ts = text_field(body, "message_ts")
        name = SHORTCUTS.get(str(body.get("callback_id")), "highlight")
        return Command(PLATFORM, channel, user, name, self.clock.now(), ts)

    async def answer(self, body: Mapping[str, Any], reply: CommandReply, respond: Respond) -> None:
        text = reply_text(reply)
        response_type = "in_channel" if reply.public else "ephemeral"
        try:
            if not body.get("response_url"):
                raise ValueError("no response_url")
            result = await respond(text=text, response_type=response_type, replace_original=False)
            status = getattr(result, "status_code", 200)
            if status >= 300:
                raise ValueError(f"response_url answered {status}")
            return
        except Exception as exc:  # expired URL, network, ...: say it another way
            log.info("response_url failed (%s); answering with chat.postEphemeral", exc)
        channel, user = _caller(body)
        try:
            if reply.public:
                await self.client.chat_postMessage(channel=channel, text=text)
            else:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except Exception:
            log.exception("could not answer %s", body.get("command") or body.get("callback_id"))


def _caller(body: Mapping[str, Any]) -> tuple[str, str]:
    """Channel and user ids of a slash command (flat fields) or a shortcut (nested objects)."""
    if "channel_id" in body:
        return str(body["channel_id"]), str(body.get("user_id", ""))
    channel, user = body.get("channel") or {}, body.get("user") or {}
    return str(channel.get("id", "")), str(user.get("id", ""))
