"""The application (slash) commands: the tree, its sync, and answering within Discord's 3 s.

The tree is generated from the core's command table (options from the typed arguments, chat
ids completed from the plan); the core parses, decides and answers. This module only turns
the options back into the text the core reads and shows the answer (ephemeral unless the core
says public).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord import translate
from bot.adapters.discord.config import DiscordConfig
from bot.adapters.discord.embeds import CONTENT_LIMIT, clip
from bot.core import wording as say
from bot.core.commands import COMMANDS as TABLE
from bot.core.commands import Arg, ArgKind, CommandSpec, message_ids
from bot.core.events import Command, CommandReply
from bot.core.plan import Plan

log = logging.getLogger("chathost.discord.commands")

FAILED = "Something went wrong on chathost's side; the hosts can find the details in its log."

Locate = Callable[[discord.Interaction], Awaitable[translate.Place | None]]
Handle = Callable[[Command], Awaitable[CommandReply]]
AnyCommand = app_commands.Command[Any, ..., None] | app_commands.ContextMenu
# "Copy Message Link": https://discord.com/channels/GUILD/CHANNEL/MESSAGE
_MESSAGE_LINK = re.compile(r"/channels/(?:\d+|@me)/\d+/(\d+)")
# What each kind of argument is as a Discord option: a switch is a boolean, the rest text.
_OPTION_TYPES: dict[ArgKind, type] = {ArgKind.SWITCH: bool}


def message_id(word: str) -> str | None:
    """The message a Discord link (Copy Message Link) names, as its id."""
    link = _MESSAGE_LINK.search(word)
    return link.group(1) if link else None


def args_text(spec: CommandSpec, values: Mapping[str, object]) -> str:
    """The options Discord hands over, as the text the core parses (in the table's order):
    a switch that is on is its word, a message link its id."""
    words: list[str] = []
    for arg in spec.args:
        value = values.get(arg.name)
        if value is None or value is False:
            continue
        words.append(arg.words[0] if value is True else str(value))
    return message_ids(spec, " ".join(words), message_id)


def reply_text(reply: CommandReply) -> str:
    """The core's answer; upcoming chats as ``<t:...>`` so each reader sees local time."""
    if reply.deadlines:
        lines = [reply.text] + [
            say.CLOSES_IN_YOUR_ZONE.format(
                question_id=d.question_id, when=f"<t:{int(d.closes.timestamp())}:F>"
            )
            for d in reply.deadlines
        ]
        return clip("\n".join(lines), CONTENT_LIMIT)
    if not reply.upcoming:
        return clip(reply.text, CONTENT_LIMIT)
    lines = [say.UPCOMING]
    for chat in reply.upcoming:
        stamp = int(chat.start.timestamp())
        lines.append(f"**{chat.title}** (`{chat.chat_id}`): <t:{stamp}:F> (<t:{stamp}:R>)")
    if reply.calendar is not None:
        lines.append(say.SUBSCRIBE.format(url=reply.calendar))
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
        """The tree, generated from the core's command table: a slash command each, and a
        message menu entry for each command that has one."""
        commands: list[AnyCommand] = [self._slash_command(spec) for spec in TABLE]
        commands += [self._menu_command(spec) for spec in TABLE if spec.menu]
        return commands

    def _slash_command(self, spec: CommandSpec) -> AnyCommand:
        run = self.run

        async def callback(interaction: discord.Interaction, **values: object) -> None:
            await run(interaction, spec.name, args_text(spec, values))

        first = inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [first, *(_parameter(arg) for arg in spec.args)]
        )
        described = app_commands.describe(**{a.name: a.help for a in spec.args})(callback)
        command: AnyCommand = app_commands.Command(
            name=spec.name, description=spec.description, callback=described
        )
        for arg in spec.args:
            if arg.kind is ArgKind.CHAT:
                command.autocomplete(arg.name)(self._complete_chat)
        return command

    def _menu_command(self, spec: CommandSpec) -> AnyCommand:
        run = self.run

        async def callback(interaction: discord.Interaction, message: discord.Message) -> None:
            await run(interaction, spec.name, str(message.id))

        return app_commands.ContextMenu(name=spec.menu, callback=callback)

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


def _parameter(arg: Arg) -> inspect.Parameter:
    """An argument as a parameter of the generated callback, which discord.py reads into
    the command's option: its type, and a default when it is optional."""
    kind = _OPTION_TYPES.get(arg.kind, str)
    default: object = inspect.Parameter.empty
    if not arg.required:
        default = False if kind is bool else None
    return inspect.Parameter(
        arg.name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default
    )


def _reply_or_failure(work: asyncio.Future[CommandReply], name: str) -> CommandReply:
    error = work.exception()
    if error is None:
        return work.result()
    log.error("/%s failed in the core", name, exc_info=error)
    return CommandReply(False, FAILED)
