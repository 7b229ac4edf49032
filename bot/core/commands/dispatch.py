"""Commands: one typed command in, one answer out. Looks the command up in the table, parses
its arguments, finds the chat it acts on, checks who may use it, and hands it to its handler
under the run's lock."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from bot.core import wording as say
from bot.core.commands import adhoc, personal, picks, run_control, status
from bot.core.commands.args import Args, ArgumentsRefused, parse_args
from bot.core.commands.context import (
    Call,
    ChatCall,
    ChatHandler,
    PersonHandler,
    Services,
    no,
)
from bot.core.commands.table import ALL_COMMANDS, CommandSpec, Who, command_named
from bot.core.engine import Engine
from bot.core.events import Command, CommandReply
from bot.core.plan import Chat
from bot.core.run_states import ACTIVE, LIVE
from bot.core.store import RunRow

CHAT_HANDLERS: Mapping[str, ChatHandler] = MappingProxyType(
    {
        "startchat": run_control.startchat,
        "nextq": run_control.nextq,
        "skipq": run_control.skipq,
        "pausechat": run_control.pausechat,
        "resumechat": run_control.resumechat,
        "extendchat": run_control.extendchat,
        "endchat": run_control.endchat,
        "highlight": picks.highlight,
        "chatstatus": status.chatstatus,
        "ask": adhoc.ask,
        "cohost": adhoc.cohost,
    }
)
PERSON_HANDLERS: Mapping[str, PersonHandler] = MappingProxyType(
    {
        "chats": status.chats,
        "quietchat": personal.quietchat,
        "forgetme": personal.forgetme,
    }
)


class Commands:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.services = Services(engine)

    async def handle(self, command: Command) -> CommandReply:
        spec = command_named(command.name)
        if spec is None:
            known = ", ".join(f"/{c}" for c in sorted(ALL_COMMANDS))
            return no(say.UNKNOWN_COMMAND.format(name=command.name.lstrip("/"), known=known))
        # The chats a command can name are those on its own platform.
        ids = [c.id for c in self.engine.plan.chats if c.platform == command.platform]
        try:
            args = parse_args(spec, command.args, ids)
        except ArgumentsRefused as exc:
            return no(str(exc))
        if not spec.in_chat:
            reply = await PERSON_HANDLERS[spec.name](self.services, Call(command, args))
        else:
            reply = await self._in_chat(spec, command, args)
        return dataclasses.replace(reply, public=True) if spec.public and reply.ok else reply

    async def _in_chat(self, spec: CommandSpec, command: Command, args: Args) -> CommandReply:
        if spec.name == "startchat" and args.text("chat") is None and args.text("title"):
            reply = await adhoc.start(self.services, Call(command, args))
            self.engine.on_change()
            return dataclasses.replace(reply, public=reply.ok)
        chat = await self._chat_for(command, args)
        if isinstance(chat, CommandReply):
            return chat
        run = await self._run_of(chat)
        async with self.engine.run_lock(run.id if run else -1):
            run = await self._run_of(chat)
            # The chat as its run keeps it: the co-hosts /cohost added for this run, and the
            # questions /ask added, in their places (the plan's list would name the wrong
            # next question once X1 is in).
            current = self.engine.chat_of(run) if run is not None else chat
            if spec.who is Who.HOSTS and not current.hosted_by(command.user):
                hosts = ", ".join(current.hosts)
                title = current.title
                return no(say.NOT_A_HOST.format(title=title, hosts=hosts, name=spec.name))
            call = ChatCall(command, args, current, run)
            reply = await CHAT_HANDLERS[spec.name](self.services, call)
        self.engine.on_change()
        return reply

    async def _chat_for(self, command: Command, args: Args) -> Chat | CommandReply:
        """The chat named by id, else a spontaneous one under way in the command's channel,
        else the one planned there."""
        named = args.text("chat")
        if named is not None:
            return self.engine.plan.chat(named)
        running = await adhoc.live_here(self.services, Call(command, args))
        if running is not None and (chat := self.engine.chat_of(running)).spontaneous:
            return chat
        here = [
            c
            for c in self.engine.plan.chats
            if c.platform == command.platform and command.channel.matches(c.channel)
        ]
        if len(here) == 1:
            return here[0]
        if not here:
            return no(say.NO_CHAT_HERE)
        return no(say.SEVERAL_CHATS_HERE.format(names=", ".join(c.id for c in here)))

    async def _run_of(self, chat: Chat) -> RunRow | None:
        runs = [r for r in await self.services.store.runs_for_chat(chat.id) if r.state in ACTIVE]
        live = [r for r in runs if r.state in LIVE]
        return (live or runs or [None])[0]
