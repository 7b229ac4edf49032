"""/highlight: a host's pick of an answer for the recap, on or off."""

from __future__ import annotations

import dataclasses

from bot.core.commands import sentences as say
from bot.core.commands.context import ChatCall, Services, no, yes
from bot.core.events import CommandReply, ReactionChanged
from bot.core.recap import HIGHLIGHT_MARK


async def highlight(services: Services, call: ChatCall) -> CommandReply:
    """Adapters send it from a message's menu, with the message id as the argument. It
    applies to the message's own run, which may have ended: a posted recap is updated."""
    command = call.command
    message_id = call.args.text("message") or ""
    mark = ReactionChanged(
        command.platform,
        command.channel,
        message_id,
        command.user,
        HIGHLIGHT_MARK,
        True,
        command.at,
    )
    run_id = await services.intake.on_reaction(mark)
    done = say.HIGHLIGHTED
    if run_id is None:  # already highlighted (then it is a toggle), or not recorded
        run_id = await services.intake.on_reaction(dataclasses.replace(mark, added=False))
        done = say.HIGHLIGHT_REMOVED
    if run_id is None:
        return no(say.NOT_RECORDED)
    await services.engine.refresh_recap(run_id)  # a no-op until the recap is posted
    return yes(done)
