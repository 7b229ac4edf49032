"""The commands about the caller themself: /quietchat and /forgetme. They act on no chat."""

from __future__ import annotations

from bot.core import wording as say
from bot.core.commands.context import Call, Services, yes
from bot.core.events import CommandReply


async def quietchat(services: Services, call: Call) -> CommandReply:
    quiet = not call.args.switch("undo")
    command = call.command
    await services.store.set_quiet(command.platform, command.user.id, quiet, services.now())
    return yes(say.QUIET if quiet else say.LOUD)


async def forgetme(services: Services, call: Call) -> CommandReply:
    """A posted recap is a copy of what is stored: it is re-rendered without the person
    (names, quotes, picks, themes, word cloud), however long ago the run ended."""
    command = call.command
    forgotten = await services.store.forget_user(command.platform, command.user.id)
    refreshed = 0
    for run_id in forgotten.run_ids:
        if await services.engine.refresh_recap(run_id):
            refreshed += 1
    posted = say.plural(refreshed, say.POSTED_RECAP)
    recaps = say.FORGOTTEN_RECAPS.format(recaps=posted) if refreshed else ""
    return yes(say.FORGOTTEN.format(messages=forgotten.messages, recaps=recaps))
