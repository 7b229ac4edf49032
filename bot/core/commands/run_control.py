"""The host commands that steer a run: start, next and skipped questions, pause and resume,
extend and end. Each acts on the run read under its lock, through the engine's
compare-and-set steps: a step that lost a race is answered "try again", never done twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.core import wording as say
from bot.core.commands.context import Call, ChatCall, Services, clock, no, yes
from bot.core.durations import format_duration
from bot.core.events import CommandReply
from bot.core.plan import Chat
from bot.core.routing import in_channel
from bot.core.run_states import LIVE, RunState
from bot.core.store import RunRow

DEFAULT_EXTENSION = timedelta(minutes=10)
# The engine's post_next_question or skip_next_question: the question's id, or None.
QuestionStep = Callable[[RunRow, Chat, datetime], Awaitable[str | None]]


async def startchat(services: Services, call: ChatCall) -> CommandReply:
    if call.run is not None and call.run.state in LIVE:
        return no(say.ALREADY_RUNNING.format(title=call.chat.title))
    running = await live_here(services, call)
    if running is not None:
        return no(say.CHANNEL_BUSY.format(title=services.engine.chat_of(running).title))
    await services.engine.start_now(call.chat, services.now())
    return yes(say.STARTED.format(title=call.chat.title))


async def nextq(services: Services, call: ChatCall) -> CommandReply:
    step = services.engine.post_next_question
    return await _next_question(services, call, step, say.ALL_QUESTIONS_OUT, say.POSTED)


async def skipq(services: Services, call: ChatCall) -> CommandReply:
    step = services.engine.skip_next_question
    return await _next_question(services, call, step, say.NOTHING_TO_SKIP, say.SKIPPED)


async def _next_question(
    services: Services, call: ChatCall, step: QuestionStep, none_left: str, done: str
) -> CommandReply:
    """Post or skip the next question: the engine's step names it, or None if it lost a race."""
    run = live(call.run, call.chat)
    if isinstance(run, CommandReply):
        return run
    if run.next_question >= len(call.chat.questions):
        return no(none_left)
    question = await step(run, call.chat, services.now())
    return yes(done.format(question=question)) if question else no(say.BUSY)


async def pausechat(services: Services, call: ChatCall) -> CommandReply:
    run = call.run
    if run is None or run.state != RunState.RUNNING:
        return no(say.CANNOT_PAUSE.format(title=call.chat.title))
    ok = await services.engine.pause(run, services.now())
    return yes(say.PAUSED) if ok else no(say.BUSY)


async def resumechat(services: Services, call: ChatCall) -> CommandReply:
    run = call.run
    if run is None or run.state != RunState.PAUSED:
        return no(say.NOT_PAUSED.format(title=call.chat.title))
    paused = await services.engine.resume(run, services.now())
    if paused is None:
        return no(say.BUSY)
    return yes(say.RESUMED.format(paused=format_duration(paused)))


async def extendchat(services: Services, call: ChatCall) -> CommandReply:
    run = live(call.run, call.chat)
    if isinstance(run, CommandReply):
        return run
    by = call.args.duration("duration") or DEFAULT_EXTENSION
    end_at = await services.engine.extend(run, by)
    if end_at is None:
        return no(say.BUSY)
    return yes(say.EXTENDED.format(by=format_duration(by), end=clock(end_at, call.chat)))


async def endchat(services: Services, call: ChatCall) -> CommandReply:
    run = live(call.run, call.chat)
    if isinstance(run, CommandReply):
        return run
    ok = await services.engine.end_now(run, services.now())
    return yes(say.ENDED.format(title=call.chat.title)) if ok else no(say.BUSY)


def live(run: RunRow | None, chat: Chat) -> RunRow | CommandReply:
    """The run if it is under way (running or paused), else the refusal that says so."""
    if run is None or run.state not in LIVE:
        return no(say.NOT_RUNNING.format(title=chat.title))
    return run


async def live_here(services: Services, call: Call) -> RunRow | None:
    """The run under way in the command's channel (planned or spontaneous), if any: one
    channel holds one chat at a time."""
    command = call.command
    runs = [
        r
        for r in await services.store.open_runs()
        if r.state in LIVE and r.platform == command.platform and in_channel(r, command.channel)
    ]
    return max(runs, key=lambda r: r.scheduled_start, default=None)
