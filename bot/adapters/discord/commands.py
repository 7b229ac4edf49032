"""The application (slash) commands: definitions, sync, and answering within Discord's 3 s.

Each command maps onto the core's command of the same name; the core decides and answers, this
module only shapes arguments and shows the answer (ephemeral unless the core says public).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord import translate
from bot.adapters.discord.config import DiscordConfig
from bot.adapters.discord.embeds import CONTENT_LIMIT, clip
from bot.core.events import Command, CommandReply
from bot.core.plan import Plan

log = logging.getLogger("chathost.discord.commands")

CHAT_HELP = "The chat's id from the plan (only needed where several chats share a channel)"
FAILED = "Something went wrong on chathost's side; the hosts can find the details in its log."

# (name, description) of the commands that take only the optional chat id.
CHAT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("startchat", "Start the chat now (hosts)"),
    ("nextq", "Post the next question now (hosts)"),
    ("skipq", "Skip the next question (hosts)"),
    ("pausechat", "Pause the chat: no questions until /resumechat (hosts)"),
    ("resumechat", "Resume a paused chat; later questions move by the pause (hosts)"),
    ("endchat", "End the chat now and post the recap (hosts)"),
    ("chatstatus", "Where the chat is: state, open question, next question, numbers"),
)

Locate = Callable[[discord.Interaction], Awaitable[translate.Place | None]]
Handle = Callable[[Command], Awaitable[CommandReply]]
AnyCommand = app_commands.Command[Any, ..., None] | app_commands.ContextMenu
# "Copy Message Link": https://discord.com/channels/GUILD/CHANNEL/MESSAGE
_MESSAGE_LINK = re.compile(r"/channels/(?:\d+|@me)/\d+/(\d+)")
HIGHLIGHT_MENU = "Highlight in recap"


def message_id_arg(text: str) -> str:
    """/highlight takes a message's link or id; the core wants the id."""
    link = _MESSAGE_LINK.search(text)
    return link.group(1) if link else text.strip()


def reply_text(reply: CommandReply) -> str:
    """The core's answer; upcoming chats as ``<t:...>`` so each reader sees local time."""
    if not reply.upcoming:
        return clip(reply.text, CONTENT_LIMIT)
    lines = ["Upcoming chats:"]
    for chat in reply.upcoming:
        stamp = int(chat.start.timestamp())
        lines.append(f"**{chat.title}** (`{chat.chat_id}`): <t:{stamp}:F> (<t:{stamp}:R>)")
    return clip("\n".join(lines), CONTENT_LIMIT)


class SlashCommands:
    """Owns the command tree; each invocation goes to the core through ``handle``."""

    def __init__(
        self,
        client: discord.Client,
        config: DiscordConfig,
        plan: Plan,
        locate: Locate,
    ) -> None:
        self.config = config
        self.plan = plan
        self.locate = locate
        self.handle: Handle | None = None
        self.tree = app_commands.CommandTree(client)
        self.tree.on_error = self._on_error  # type: ignore[method-assign]
        guilds = [discord.Object(id=g) for g in config.guild_ids]
        for command in self._commands():
            if guilds:
                self.tree.add_command(command, guilds=guilds)
            else:
                self.tree.add_command(command)

    async def sync(self) -> None:
        """Overwrite the commands in the configured guilds (instant), or globally (Discord
        may take a while to show global changes)."""
        try:
            if not self.config.guild_ids:
                await self.tree.sync()
            for guild_id in self.config.guild_ids:
                await self.tree.sync(guild=discord.Object(id=guild_id))
        except discord.Forbidden as exc:
            log.error(
                "could not register the slash commands (%s): invite the bot with the "
                "applications.commands scope (chathost discord-invite)",
                exc.text,
            )

    # definitions

    def _commands(self) -> list[AnyCommand]:
        commands = [self._chat_command(name, text) for name, text in CHAT_COMMANDS]
        run = self.run

        @app_commands.command(name="extendchat", description="Extend the running chat (hosts)")
        @app_commands.describe(
            duration="Minutes (e.g. 15) or a duration (e.g. 1h, 20m); default 10 minutes",
            chat=CHAT_HELP,
        )
        async def extendchat(
            interaction: discord.Interaction, duration: str | None = None, chat: str | None = None
        ) -> None:
            await run(interaction, "extendchat", f"{chat or ''} {duration or ''}")

        @app_commands.command(name="chats", description="Upcoming chats, in your local time")
        async def chats(interaction: discord.Interaction) -> None:
            await run(interaction, "chats", "")

        @app_commands.command(name="quietchat", description="Stop (or restart) chathost's nudges")
        @app_commands.describe(undo="Turn nudges back on")
        async def quietchat(interaction: discord.Interaction, undo: bool = False) -> None:
            await run(interaction, "quietchat", "off" if undo else "")

        @app_commands.command(
            name="forgetme", description="Delete your stored chat messages and reactions"
        )
        async def forgetme(interaction: discord.Interaction) -> None:
            await run(interaction, "forgetme", "")

        @app_commands.command(
            name="highlight", description="Put an answer in the recap, or take it out (hosts)"
        )
        @app_commands.describe(message="The message's link (Copy Message Link) or id")
        async def highlight(interaction: discord.Interaction, message: str) -> None:
            await run(interaction, "highlight", message_id_arg(message))

        @app_commands.context_menu(name=HIGHLIGHT_MENU)
        async def highlight_menu(
            interaction: discord.Interaction, message: discord.Message
        ) -> None:
            await run(interaction, "highlight", str(message.id))

        extendchat.autocomplete("chat")(self._complete_chat)
        return [*commands, extendchat, highlight, chats, quietchat, forgetme, highlight_menu]

    def _chat_command(self, name: str, description: str) -> AnyCommand:
        run = self.run

        async def callback(interaction: discord.Interaction, chat: str | None = None) -> None:
            await run(interaction, name, chat or "")

        command = app_commands.Command(
            name=name,
            description=description,
            callback=app_commands.describe(chat=CHAT_HELP)(callback),
        )
        command.autocomplete("chat")(self._complete_chat)
        return command

    async def _complete_chat(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        current = current.lower()
        return [
            app_commands.Choice(name=clip(f"{c.title} ({c.id})", 100), value=c.id)
            for c in self.plan.chats
            if c.platform == translate.PLATFORM and current in f"{c.id} {c.title}".lower()
        ][:25]  # Discord shows at most 25 choices

    # answering

    async def run(self, interaction: discord.Interaction, name: str, args: str) -> None:
        """Answer directly when the core is quick, else defer (ephemeral) within the 3 s and
        follow up: a host command may post a question and wait out a rate limit first."""
        if self.handle is None:
            await interaction.response.send_message(
                "chathost is starting; try again.", ephemeral=True
            )
            return
        place = await self.locate(interaction)
        command = translate.command(interaction, name, args, place, self.config.host_roles)
        work = asyncio.ensure_future(self.handle(command))
        done, _ = await asyncio.wait({work}, timeout=self.config.ack_budget)
        if work in done:
            reply = _reply_or_failure(work, name)
            await interaction.response.send_message(
                reply_text(reply), ephemeral=not reply.public, allowed_mentions=_NO_PINGS
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.wait({work})
        reply = _reply_or_failure(work, name)
        if reply.public:
            # The deferred answer is ephemeral; a public one replaces it in the channel.
            await interaction.delete_original_response()
            await interaction.followup.send(reply_text(reply), allowed_mentions=_NO_PINGS)
        else:
            await interaction.followup.send(
                reply_text(reply), ephemeral=True, allowed_mentions=_NO_PINGS
            )

    async def _on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("slash command failed: %s", error, exc_info=error)
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(FAILED, ephemeral=True)
            except discord.HTTPException:
                log.debug("could not tell the user either", exc_info=True)


_NO_PINGS = discord.AllowedMentions.none()


def _reply_or_failure(work: asyncio.Future[CommandReply], name: str) -> CommandReply:
    error = work.exception()
    if error is None:
        return work.result()
    log.error("/%s failed in the core", name, exc_info=error)
    return CommandReply(False, FAILED)
