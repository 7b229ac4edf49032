"""The commands anyone may run to see where things stand: /chatstatus and /chats."""

from __future__ import annotations

from datetime import datetime

from bot.core import wording as say
from bot.core.archive_links import plan_calendar
from bot.core.commands.context import Call, ChatCall, Services, clock, yes
from bot.core.events import CommandReply, Deadline, Upcoming
from bot.core.plan import Chat
from bot.core.recurrence import next_start
from bot.core.run_states import LIVE, WAITING, RunState
from bot.core.store import RunRow
from bot.core.windows import open_at


async def chatstatus(services: Services, call: ChatCall) -> CommandReply:
    chat, run = call.chat, call.run
    if run is None:
        start = next_start(chat, services.now())
        when = clock(start, chat) if start else say.NOT_SCHEDULED
        return yes(say.NO_RUN_OPEN.format(title=chat.title, when=when))
    messages = await services.store.count_messages(run.id or 0)
    people = len(await services.store.participants(run.id or 0))
    parts = [say.STATUS_STATE.format(title=chat.title, state=run.state)]
    deadlines = _deadlines(run, chat, services.now())
    for deadline in deadlines:
        when = clock(deadline.closes, chat)
        parts.append(say.STATUS_OPEN_UNTIL.format(question_id=deadline.question_id, when=when))
    if run.current_question and not chat.is_async:
        parts.append(
            say.STATUS_OPEN.format(question_id=run.current_question, count=len(chat.questions))
        )
    if run.state == RunState.RUNNING and run.next_question < len(chat.questions):
        due = services.engine.question_due(run, chat, run.next_question)
        next_id = chat.questions[run.next_question].id
        parts.append(say.STATUS_NEXT.format(question_id=next_id, when=clock(due, chat)))
    if run.state in WAITING:
        parts.append(say.STATUS_STARTS.format(when=clock(run.scheduled_start, chat)))
    else:
        parts.append(say.STATUS_ENDS.format(when=clock(run.end_at, chat)))
    parts.append(say.STATUS_COUNTS.format(messages=messages, people=people))
    text = say.STATUS_JOIN.join(parts) + say.STATUS_END
    return CommandReply(True, text, deadlines=deadlines)


def _deadlines(run: RunRow, chat: Chat, now: datetime) -> tuple[Deadline, ...]:
    """An async chat's open questions, soonest closing first."""
    if run.state not in LIVE:
        return ()
    found = sorted(open_at(run, chat, now), key=lambda w: (w.closes, w.index))
    return tuple(Deadline(w.question_id, w.closes) for w in found)


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
    calendar = plan_calendar(services.engine.ctx.public_url)
    if calendar is not None:
        lines.append(say.SUBSCRIBE.format(url=calendar))
    text = "\n".join([say.UPCOMING, *lines])
    return CommandReply(True, text, upcoming=tuple(upcoming), calendar=calendar)
