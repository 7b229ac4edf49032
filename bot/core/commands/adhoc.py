"""Spontaneous chats: ``/startchat TITLE [#tag]`` where no plan entry is named, ``/ask`` and
``/cohost``. A spontaneous run carries its chat in its own snapshot (bot/core/adhoc.py), and
every change to it (a question, a co-host) is one compare-and-set of the run: a question's
post is claimed by the same step (``question:Qn``), so it goes out once whichever worker
took the command."""

from __future__ import annotations

from datetime import timedelta

from bot.core import wording as say
from bot.core.adhoc import adhoc_chat, split_title, with_cohost, with_question
from bot.core.commands.context import Call, ChatCall, Services, no, yes
from bot.core.commands.run_control import live, live_here
from bot.core.events import CommandReply
from bot.core.store import PostClaim


async def start(services: Services, call: Call) -> CommandReply:
    """Start a spontaneous chat here, if the typer may and the channel is free."""
    plan = services.engine.plan
    command = call.command
    if not plan.may_start_adhoc(command.user):
        hosts = ", ".join(plan.adhoc_hosts) or say.ADHOC_NOBODY
        return no(say.ADHOC_NOT_ALLOWED.format(hosts=hosts))
    if not plan.adhoc.allows_channel(command.channel.matches):
        channels = ", ".join(plan.adhoc.channels or ())
        return no(say.ADHOC_WRONG_CHANNEL.format(channels=channels))
    running = await live_here(services, call)
    if running is not None:
        title = services.engine.chat_of(running).title
        return no(say.CHANNEL_BUSY.format(title=title))
    title, tag = split_title(call.args.text("title") or "")
    now = services.now()
    chat = adhoc_chat(plan, title, tag, command.platform, command.channel, command.user, now)
    await services.store.upsert_chat(chat)
    async with services.engine.run_lock(-1):
        await services.engine.start_now(chat, now)
    shown = f" {tag}" if tag else ""
    return yes(say.ADHOC_STARTED.format(title=title, tag=shown))


async def ask(services: Services, call: ChatCall) -> CommandReply:
    """Post the typed question at once, right after the questions already out: a spontaneous
    chat's next (Q3), or an extra one in a planned chat (X1), before its next planned one."""
    run = live(call.run, call.chat)
    if isinstance(run, CommandReply):
        return run
    current = services.engine.chat_of(run)  # as read under the lock: every question so far
    now = services.now()
    started = run.started_at or now
    offset = now - started - timedelta(seconds=run.shift_seconds)
    text = call.args.text("question") or ""
    chat, question = with_question(current, text, offset, run.next_question)
    changes = {
        "plan_json": chat.model_dump_json(),
        "next_question": run.next_question + 1,
        "current_question": question.id,
        "current_question_at": now,
    }
    claim = PostClaim(f"question:{question.id}", "question", now, question_id=question.id)
    done = await services.engine.steps.transition(run, changes, claim)
    return yes(say.ASKED.format(question=question.id)) if done is not None else no(say.BUSY)


async def cohost(services: Services, call: ChatCall) -> CommandReply:
    """Add a co-host to this run's own snapshot: the plan (and later runs) stay as they are."""
    run = live(call.run, call.chat)
    if isinstance(run, CommandReply):
        return run
    person = (call.args.text("person") or "").split()[0].lstrip("@")
    if not person:
        return no(say.COHOST_NO_NAME)
    chat = with_cohost(services.engine.chat_of(run), person)
    done = await services.engine.steps.transition(run, {"plan_json": chat.model_dump_json()})
    if done is None:
        return no(say.BUSY)
    return yes(say.COHOST_ADDED.format(person=person, title=chat.title))
