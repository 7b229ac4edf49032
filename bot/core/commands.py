"""Host and participant commands: /startchat, /nextq, /skipq, /pausechat, /resumechat,
/extendchat, /endchat, /highlight, /chatstatus, /chats, /quietchat, /forgetme.

Every adapter maps its own command syntax onto these names; the replies are plain text that
the adapter shows privately (ephemeral) unless marked public.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.core.durations import DurationError, format_duration, parse_typed_duration
from bot.core.engine import Engine
from bot.core.events import Command, CommandReply, ReactionChanged, Upcoming
from bot.core.intake import Intake
from bot.core.plan import Chat
from bot.core.recap import HIGHLIGHT_MARK, plural
from bot.core.recurrence import next_start
from bot.core.run_states import ACTIVE, LIVE, WAITING, RunState
from bot.core.store import RunRow

HOST_COMMANDS = frozenset(
    {
        "startchat",
        "nextq",
        "skipq",
        "pausechat",
        "resumechat",
        "extendchat",
        "endchat",
        "highlight",
    }
)
ALL_COMMANDS = HOST_COMMANDS | {"chatstatus", "chats", "quietchat", "forgetme"}

Handler = Callable[[Command, Chat, RunRow | None], Awaitable[CommandReply]]


def _no(text: str) -> CommandReply:
    return CommandReply(False, text)


def _yes(text: str) -> CommandReply:
    return CommandReply(True, text)


class Commands:
    def __init__(self, engine: Engine, intake: Intake) -> None:
        self.engine = engine
        self.store = engine.store
        self.intake = intake
        self._handlers: dict[str, Handler] = {
            "startchat": self._startchat,
            "nextq": self._nextq,
            "skipq": self._skipq,
            "pausechat": self._pausechat,
            "resumechat": self._resumechat,
            "extendchat": self._extendchat,
            "endchat": self._endchat,
            "chatstatus": self._chatstatus,
            "highlight": self._highlight,
        }

    async def handle(self, command: Command) -> CommandReply:
        name = command.name.lstrip("/").lower()
        if name == "chats":
            return self._chats(command)
        if name == "quietchat":
            return await self._quietchat(command)
        if name == "forgetme":
            return await self._forgetme(command)
        if name not in self._handlers:
            known = ", ".join(f"/{c}" for c in sorted(ALL_COMMANDS))
            return _no(f"I don't know /{name}. Commands: {known}")
        chat = self._chat_for(command)
        if isinstance(chat, CommandReply):
            return chat
        if name in HOST_COMMANDS and not chat.hosted_by(command.user):
            hosts = ", ".join(chat.hosts)
            return _no(f"Only the hosts of {chat.title} ({hosts}) can use /{name}.")
        run = await self._run_of(chat)
        async with self.engine.run_lock(run.id if run else -1):
            run = await self._run_of(chat)
            reply = await self._handlers[name](command, chat, run)
        self.engine.on_change()
        return reply

    def _chat_for(self, command: Command) -> Chat | CommandReply:
        words = command.args.split()
        chats = self.engine.plan.chats
        if words and any(c.id == words[0] for c in chats):
            return self.engine.plan.chat(words[0])
        here = [
            c
            for c in chats
            if c.platform == command.platform and command.channel.matches(c.channel)
        ]
        if len(here) == 1:
            return here[0]
        if not here:
            return _no("No chat is planned in this channel; name one, e.g. /startchat CHAT_ID.")
        names = ", ".join(c.id for c in here)
        return _no(f"Several chats use this channel ({names}); name one, e.g. /startchat ID.")

    async def _run_of(self, chat: Chat) -> RunRow | None:
        runs = [r for r in await self.store.runs_for_chat(chat.id) if r.state in ACTIVE]
        live = [r for r in runs if r.state in LIVE]
        return (live or runs or [None])[0]

    def _now(self) -> datetime:
        return self.engine.clock.now()

    async def _startchat(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        if run is not None and run.state in LIVE:
            return _no(f"{chat.title} is already running.")
        await self.engine.start_now(chat, self._now())
        return _yes(f"Started {chat.title}. Questions follow the plan; /nextq posts one early.")

    async def _nextq(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        run_or_reply = _live(run, chat)
        if isinstance(run_or_reply, CommandReply):
            return run_or_reply
        if run_or_reply.next_question >= len(chat.questions):
            return _no("All questions are out. /endchat finishes the chat.")
        posted = await self.engine.post_next_question(run_or_reply, chat, self._now())
        return _yes(f"Posted {posted}.") if posted else _busy()

    async def _skipq(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        run_or_reply = _live(run, chat)
        if isinstance(run_or_reply, CommandReply):
            return run_or_reply
        if run_or_reply.next_question >= len(chat.questions):
            return _no("There is no question left to skip.")
        skipped = await self.engine.skip_next_question(run_or_reply, chat, self._now())
        return _yes(f"Skipped {skipped}: it will not be posted.") if skipped else _busy()

    async def _pausechat(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        if run is None or run.state != RunState.RUNNING:
            return _no(f"{chat.title} is not running, so it cannot be paused.")
        ok = await self.engine.pause(run, self._now())
        return _yes("Paused: no questions go out until /resumechat.") if ok else _busy()

    async def _resumechat(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        if run is None or run.state != RunState.PAUSED:
            return _no(f"{chat.title} is not paused.")
        paused = await self.engine.resume(run, self._now())
        if paused is None:
            return _busy()
        return _yes(f"Resumed after {format_duration(paused)}; later questions move by as much.")

    async def _extendchat(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        run_or_reply = _live(run, chat)
        if isinstance(run_or_reply, CommandReply):
            return run_or_reply
        words = [w for w in command.args.split() if w != chat.id]
        try:
            by = parse_typed_duration(words[0]) if words else timedelta(minutes=10)
        except DurationError as exc:
            return _no(str(exc))
        end_at = await self.engine.extend(run_or_reply, by)
        if end_at is None:
            return _busy()
        return _yes(f"Extended by {format_duration(by)}: ends {_clock(end_at, chat)}.")

    async def _endchat(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        run_or_reply = _live(run, chat)
        if isinstance(run_or_reply, CommandReply):
            return run_or_reply
        ok = await self.engine.end_now(run_or_reply, self._now())
        return _yes(f"Ended {chat.title}; the recap follows.") if ok else _busy()

    async def _highlight(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        """A host's pick for the recap, on or off (adapters send it from a message's menu, with
        the message id as the argument). It applies to the message's own run, which may have
        ended: a posted recap is updated."""
        words = command.args.split()
        if not words:
            return _no("Use /highlight on a message (its menu), or /highlight MESSAGE_ID.")
        mark = ReactionChanged(
            command.platform,
            command.channel,
            words[-1],
            command.user,
            HIGHLIGHT_MARK,
            True,
            command.at,
        )
        run_id = await self.intake.on_reaction(mark)
        done = "Highlighted: it will be in the recap."
        if run_id is None:  # already highlighted (then it is a toggle), or not recorded
            run_id = await self.intake.on_reaction(dataclasses.replace(mark, added=False))
            done = "Highlight removed."
        if run_id is None:
            return _no("That message is not one chathost recorded in a chat.")
        await self.engine.refresh_recap(run_id)  # a no-op until the recap is posted
        return _yes(done)

    async def _chatstatus(self, command: Command, chat: Chat, run: RunRow | None) -> CommandReply:
        if run is None:
            start = next_start(chat, self._now())
            when = _clock(start, chat) if start else "not scheduled again"
            return _yes(f"{chat.title}: no run open. Next: {when}.")
        messages = await self.store.count_messages(run.id or 0)
        people = len(await self.store.participants(run.id or 0))
        parts = [f"{chat.title}: {run.state}"]
        if run.current_question:
            parts.append(f"{run.current_question} of {len(chat.questions)} open")
        if run.state == RunState.RUNNING and run.next_question < len(chat.questions):
            due = self.engine.question_due(run, chat, run.next_question)
            parts.append(f"next {chat.questions[run.next_question].id} at {_clock(due, chat)}")
        if run.state in WAITING:
            parts.append(f"starts {_clock(run.scheduled_start, chat)}")
        else:
            parts.append(f"ends {_clock(run.end_at, chat)}")
        parts.append(f"{messages} messages from {people} people")
        return _yes(", ".join(parts) + ".")

    def _chats(self, command: Command) -> CommandReply:
        now = self._now()
        upcoming = []
        for chat in self.engine.plan.chats:
            if chat.platform != command.platform:
                continue
            start = next_start(chat, now - chat.schedule.duration)
            if start is not None:
                upcoming.append(Upcoming(chat.id, chat.title, start, chat.platform))
        upcoming.sort(key=lambda u: u.start)
        if not upcoming:
            return _yes("No chats are planned here.")
        lines = [
            f"{u.title} ({u.chat_id}): {_clock(u.start, self.engine.plan.chat(u.chat_id))}"
            for u in upcoming
        ]
        return CommandReply(True, "Upcoming chats:\n" + "\n".join(lines), upcoming=tuple(upcoming))

    async def _quietchat(self, command: Command) -> CommandReply:
        quiet = command.args.strip().lower() not in {"off", "no", "undo"}
        await self.store.set_quiet(command.platform, command.user.id, quiet, self._now())
        if quiet:
            return _yes("Done: chathost will not nudge you. (/quietchat off to undo.)")
        return _yes("Nudges are back on for you.")

    async def _forgetme(self, command: Command) -> CommandReply:
        """A posted recap is a copy of what is stored: it is re-rendered without the person
        (names, quotes, picks, themes, word cloud), however long ago the run ended."""
        forgotten = await self.store.forget_user(command.platform, command.user.id)
        refreshed = 0
        for run_id in forgotten.run_ids:
            if await self.engine.refresh_recap(run_id):
                refreshed += 1
        recaps = f", and took you out of {plural(refreshed, 'posted recap')}" if refreshed else ""
        return _yes(
            f"Deleted {forgotten.messages} of your stored messages, with your reactions and "
            f"nudges{recaps}. Anything you post in a chat from now on is recorded again."
        )


def _live(run: RunRow | None, chat: Chat) -> RunRow | CommandReply:
    if run is None or run.state not in LIVE:
        return _no(f"{chat.title} is not running. /startchat starts it.")
    return run


def _busy() -> CommandReply:
    return _no("The chat changed at the same moment; please try again.")


def _clock(when: datetime, chat: Chat) -> str:
    local = when.astimezone(chat.zone)
    return f"{local:%a %d %b %H:%M} {local.tzname()}"
