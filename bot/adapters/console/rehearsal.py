"""A rehearsal: one chat from the plan, played on a simulated clock with scripted replies.

The real engine, store and attribution run; only the clock and the platform are simulated.
Time before the start (announcements) passes instantly; from the start on, the clock runs at
``speed`` times real time (``inf``: no waiting at all).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import orjson

from bot.adapters.console.plugin import DEFAULT_CHANNEL
from bot.adapters.console.port import ConsolePort
from bot.adapters.console.replies import Reply, edit_time
from bot.core import wording
from bot.core.adhoc import adhoc_chat_id, split_title
from bot.core.clock import SimClock, SystemClock, sleep_until
from bot.core.engine import RUN_LEAD, Engine
from bot.core.errors import UserError
from bot.core.events import (
    ChannelRef,
    Command,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChanged,
    User,
)
from bot.core.plan import Chat, Plan, Schedule, chat_from_json
from bot.core.ports import Attachment
from bot.core.recap import build_recap
from bot.core.recorder import Recorded
from bot.core.recurrence import last_start, next_start
from bot.core.run_states import DONE
from bot.core.service import ChatService
from bot.core.snapshot import load_run_view
from bot.core.store import RunRow, Store
from bot.export.json_export import run_document
from bot.export.markdown import recap_markdown
from bot.export.pictures import recap_pictures

PLATFORM = "console"


@dataclass(frozen=True, order=True)
class Scripted:
    """One thing that happens at an offset from the start."""

    offset: timedelta
    order: int
    index: int
    action: str  # message, edit, delete


@dataclass
class RehearsalResult:
    run_id: int
    document: dict
    markdown: str
    pictures: tuple[Attachment, ...] = ()


class Rehearsal:
    """``chat_id`` None: a spontaneous chat, which the replies start with ``/startchat TITLE``
    (``chathost rehearse --adhoc``), run by the plan's ``adhoc:`` section."""

    def __init__(
        self,
        plan: Plan,
        chat_id: str | None,
        replies: list[Reply],
        store: Store,
        *,
        speed: float = float("inf"),
        out: TextIO | None = None,
        start: datetime | None = None,
    ) -> None:
        if chat_id is None:
            self.start = start or SystemClock().now()
            self.channel = adhoc_channel(plan)
            self.chat_id = adhoc_chat_id(PLATFORM, self.channel, _adhoc_title(replies))
            # No chat of the plan: the host's /startchat makes one, as it would live.
            self.plan = plan.model_copy(update={"chats": []})
            lead = timedelta(0)
        else:
            self.start = start or rehearsal_start(plan.chat(chat_id), SystemClock().now())
            chat = _pinned(plan.chat(chat_id), self.start)
            self.chat_id = chat.id
            self.channel = ChannelRef(chat.channel.lstrip("#"), chat.channel.lstrip("#"))
            self.plan = Plan(timezone=plan.timezone, chats=[chat])
            lead = max(chat.announce, default=timedelta(0)) + RUN_LEAD
        self.clock = SimClock(self.start - lead)
        self.port = ConsolePort(self.clock, out, origin=self.start)
        self.store = store
        self.engine = Engine(
            self.plan, store, lambda _: self.port, self.clock, illustrate=recap_pictures
        )
        self.service = ChatService(self.engine)
        self._threads: dict[str, str | None] = {}
        # --adhoc: the answer to the replies' /startchat, said again if it started nothing.
        self._start_answer: tuple[Reply, str] | None = None
        self._adhoc = chat_id is None
        self._id_prefix = f"{self.start:%Y%m%dT%H%M}"
        self.replies = replies
        self.speed = speed
        self.script = sorted(_script(replies))

    async def run(self) -> RehearsalResult:
        await self.engine.start()
        pending = deque(self.script)
        wake = await self.engine.tick()
        spins = 0
        while True:
            run = await self._run()
            if run is not None and run.state in DONE and not pending:
                break
            next_event = self._due(pending[0]) if pending else None
            target = min((t for t in (wake, next_event) if t is not None), default=None)
            if target is None:
                break
            before = self.clock.now()
            if target > before:
                if target > self.start:
                    await sleep_until(self.clock, target, self.speed)
                self.clock.set(target)
            commanded = False
            while pending and self._due(pending[0]) <= self.clock.now():
                if pending[0].action == "message" and not self._is_command(pending[0]):
                    await self._play_wave(self._wave(pending, wake))
                else:
                    commanded |= await self._play(pending.popleft())
            # Messages never bring the next wake-up forward (see ChatService.record);
            # commands and due wake-ups do.
            if commanded or (wake is not None and wake <= self.clock.now()):
                wake = await self.engine.tick()
            spins = spins + 1 if self.clock.now() == before else 0
            if spins > 1000:
                raise RuntimeError(f"the engine keeps asking to wake at {before}; this is a bug")
        return await self._result()

    async def _run(self) -> RunRow | None:
        runs = await self.store.runs_for_chat(self.chat_id)
        return runs[-1] if runs else None

    def _due(self, item: Scripted) -> datetime:
        return self.start + item.offset

    def _is_command(self, item: Scripted) -> bool:
        return self.replies[item.index].text.startswith("/")

    def _wave(self, pending: deque[Scripted], wake: datetime | None) -> list[Scripted]:
        """The replies to send together: at full speed every plain message up to the engine's
        next wake-up (nothing in between can change where they go), else those due now.

        A command, an edit or a delete ends the wave, so each sees the messages before it
        stored, exactly as if everything had been sent one at a time.
        """
        horizon = self.clock.now()
        if self.speed == float("inf"):
            horizon = max(horizon, wake) if wake is not None else datetime.max.replace(tzinfo=UTC)
        wave: list[Scripted] = []
        while pending and self._due(pending[0]) <= horizon:
            item = pending[0]
            if item.action != "message" or self._is_command(item):
                break
            wave.append(pending.popleft())
        return wave

    async def _play_wave(self, wave: list[Scripted]) -> None:
        """Send a wave's messages through the service at once (the recorder stores them in a
        few group commits), then their reactions, in the order of the script."""
        if not wave:
            return
        self.clock.set(max(self.clock.now(), self._due(wave[-1])))
        messages = [await self._message(item, self.replies[item.index]) for item in wave]
        reactions = [r for item in wave for r in self._reactions(item)]
        recorded = await self.service.record_all([*messages, *reactions])
        for item, message, where in zip(wave, messages, recorded[: len(messages)], strict=True):
            self._say(message, self.replies[item.index], where, self._due(item))

    async def _play(self, item: Scripted) -> bool:
        """Deliver one scripted item; True when it was a command."""
        reply = self.replies[item.index]
        now = self.clock.now()
        message_id = self._message_id(item.index)
        channel = self.channel
        if item.action == "edit":
            await self.service.on_event(
                MessageEdited(PLATFORM, channel, message_id, reply.edit or "", now)
            )
        elif item.action == "delete":
            await self.service.on_event(MessageDeleted(PLATFORM, channel, message_id, now))
        elif self._is_command(item):
            name, _, args = reply.text[1:].partition(" ")
            user = User(id=reply.user, name=reply.user)
            command = Command(PLATFORM, channel, user, name, now, args)
            answer = await self.service.on_command(command)
            if self._adhoc and self._start_answer is None and name.lower() == "startchat":
                self._start_answer = (reply, answer.text)
            self.port.write(f"[{self.port.stamp()}] {user.name}: /{name} {args}")
            self.port.write(f"{'':10} (to {user.name}) {answer.text}")
            return True
        else:
            await self._play_wave([item])
        return False

    async def _message(self, item: Scripted, reply: Reply) -> IncomingMessage:
        at = self._due(item)
        reply_to = self._message_id(reply.reply_to) if reply.reply_to is not None else None
        user = User(id=reply.user, name=reply.user)
        thread = await self._thread_of(reply.thread) if reply.thread else None
        return IncomingMessage(
            PLATFORM,
            self.channel,
            self._message_id(item.index),
            user,
            reply.text,
            at,
            thread_id=thread,
            reply_to=reply_to,
        )

    def _reactions(self, item: Scripted) -> list[ReactionChanged]:
        reply = self.replies[item.index]
        message_id = self._message_id(item.index)
        at = self._due(item)
        return [
            ReactionChanged(PLATFORM, self.channel, message_id, User(p, p), emoji, True, at)
            for emoji, people in reply.reactions.items()
            for p in people
        ]

    def _say(
        self, message: IncomingMessage, reply: Reply, where: Recorded | None, at: datetime
    ) -> None:
        went = f"-> {where.question_id or where.reason}" if where else "(not recorded)"
        thread = f" [thread {reply.thread}]" if reply.thread else ""
        self.port.write(
            f"[{self.port.stamp(at)}] {message.user.name}{thread} {went}: {message.text}"
        )

    def _message_id(self, index: int) -> str:
        """Unique per rehearsed run, so two rehearsals can share one database."""
        return f"{self._id_prefix}-m{index}"

    async def _thread_of(self, question_id: str) -> str | None:
        """The thread of a question's post, as the platform would give it to a reply there
        (remembered once posted: a posted question never moves)."""
        if question_id in self._threads:
            return self._threads[question_id]
        run = await self._run()
        posts = await self.store.posts(run.id or 0) if run else []
        post = next((p for p in posts if p.question_id == question_id and p.message_id), None)
        if post is None:
            return None
        thread = self._threads[question_id] = post.thread_id or post.message_id
        return thread

    async def _result(self) -> RehearsalResult:
        run = await self._run()
        if (run is None or run.id is None) and self._start_answer is not None:
            reply, answer = self._start_answer
            raise AdhocRepliesError(
                wording.REHEARSE_ADHOC_REFUSED.format(
                    command=reply.text, user=reply.user, answer=answer
                )
            )
        if run is None or run.id is None:
            raise RuntimeError("the rehearsal created no run")
        view = await load_run_view(self.store, run.id)
        recap = build_recap(view)
        posted = [m for _, m in self.port.sent if m.kind == "recap" and m.attachments]
        pictures = posted[-1].attachments if posted else ()
        chat = chat_from_json(run.plan_json)  # as the run kept it: every question asked
        return RehearsalResult(
            run.id, run_document(chat, view, recap), recap_markdown(recap), pictures
        )


def rehearsal_start(chat: Chat, now: datetime) -> datetime:
    """The chat's next start; for a chat whose schedule has ended (a one-off in the past, an
    archived chat replayed), its own last date; else now."""
    return next_start(chat, now) or last_start(chat, now) or now


def adhoc_channel(plan: Plan) -> ChannelRef:
    """Where a rehearsed spontaneous chat runs: the first channel ``adhoc:`` allows, else the
    console's own."""
    name = next(iter(plan.adhoc.channels or ()), DEFAULT_CHANNEL).lstrip("#")
    return ChannelRef(name, name)


def _adhoc_title(replies: list[Reply]) -> str:
    """The title of ``--adhoc``'s chat: its replies start with ``/startchat TITLE``."""
    first = replies[0].text.split(maxsplit=1) if replies else []
    if len(first) < 2 or first[0].lower() != "/startchat":
        raise AdhocRepliesError(wording.REHEARSE_ADHOC_FIRST)
    return split_title(first[1])[0]


class AdhocRepliesError(UserError):
    """``rehearse --adhoc`` with replies that do not start a spontaneous chat."""


def _pinned(chat: Chat, start: datetime) -> Chat:
    """The chat on the console with one start, ``start``: the engine then plays that run
    whether it is the plan's next occurrence, one in the past, or one chosen with ``--at``."""
    local = start.astimezone(chat.zone).replace(tzinfo=None)
    schedule = Schedule(start=local, duration=chat.schedule.duration)
    return chat.model_copy(update={"platform": PLATFORM, "schedule": schedule})


def _script(replies: list[Reply]) -> list[Scripted]:
    items = []
    for index, reply in enumerate(replies):
        items.append(Scripted(reply.at, 0, index, "message"))
        if reply.edit is not None:
            items.append(Scripted(edit_time(reply), 1, index, "edit"))
        if reply.delete_at is not None:
            items.append(Scripted(reply.delete_at, 2, index, "delete"))
    return items


def write_outputs(result: RehearsalResult, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    # orjson: the standard library's encoder falls back to pure Python when it indents (1 s
    # for a 20,000-reply run); the text is the same, UTF-8, two-space indent.
    (out_dir / "run.json").write_bytes(orjson.dumps(result.document, option=orjson.OPT_INDENT_2))
    (out_dir / "summary.md").write_text(result.markdown, encoding="utf-8")
    for picture in result.pictures:  # the word cloud that went with the posted recap
        (out_dir / picture.filename).write_bytes(picture.data)


async def rehearse_to(
    plan: Plan,
    chat_id: str | None,
    replies_file: str | None,
    db_url: str,
    speed: float,
    out_dir: Path | None,
    out: TextIO | None = None,
    start: datetime | None = None,
) -> RehearsalResult:
    """Run a rehearsal against its own database and write the outputs."""
    from bot.adapters.console.replies import load_replies
    from bot.core.store import open_store

    replies = load_replies(replies_file) if replies_file else []
    store = await open_store(db_url)
    try:
        result = await Rehearsal(
            plan, chat_id, replies, store, speed=speed, out=out, start=start
        ).run()
    finally:
        await store.close()
    if out_dir is not None:
        write_outputs(result, out_dir)
    return result
