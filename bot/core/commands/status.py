"""The commands anyone may run to see where things stand: /chatstatus and /chats."""

from __future__ import annotations

from bot.core.commands import sentences as say
from bot.core.commands.context import Call, ChatCall, Services, clock, yes
from bot.core.events import CommandReply, Upcoming
from bot.core.recurrence import next_start
from bot.core.run_states import WAITING, RunState


async def chatstatus(services: Services, call: ChatCall) -> CommandReply:
    chat, run = call.chat, call.run
    if run is None:
        start = next_start(chat, services.now())
        when = clock(start, chat) if start else say.NOT_SCHEDULED
        return yes(say.NO_RUN_OPEN.format(title=chat.title, when=when))
    messages = await services.store.count_messages(run.id or 0)
    people = len(await services.store.participants(run.id or 0))
    parts = [f"{chat.title}: {run.state}"]
    if run.current_question:
        parts.append(f"{run.current_question} of {len(chat.questions)} open")
    if run.state == RunState.RUNNING and run.next_question < len(chat.questions):
        due = services.engine.question_due(run, chat, run.next_question)
        parts.append(f"next {chat.questions[run.next_question].id} at {clock(due, chat)}")
    if run.state in WAITING:
        parts.append(f"starts {clock(run.scheduled_start, chat)}")
    else:
        parts.append(f"ends {clock(run.end_at, chat)}")
    parts.append(f"{messages} messages from {people} people")
    return yes(", ".join(parts) + ".")


async def chats(services: Services, call: Call) -> CommandReply:
    """The chats planned on the caller's platform, soonest first; a chat under way counts
    until its planned end. Adapters may show ``upcoming`` in each reader's own zone."""
    now = services.now()
    plan = services.engine.plan
    upcoming = []
    for chat in plan.chats:
        if chat.platform != call.command.platform:
            continue
        start = next_start(chat, now - chat.schedule.duration)
        if start is not None:
            upcoming.append(Upcoming(chat.id, chat.title, start, chat.platform))
    upcoming.sort(key=lambda u: u.start)
    if not upcoming:
        return yes(say.NO_CHATS_PLANNED)
    lines = [f"{u.title} ({u.chat_id}): {clock(u.start, plan.chat(u.chat_id))}" for u in upcoming]
    return CommandReply(True, "\n".join([say.UPCOMING, *lines]), upcoming=tuple(upcoming))
