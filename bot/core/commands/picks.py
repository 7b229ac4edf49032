"""/highlight: a host's pick of an answer for the recap, on or off."""

from __future__ import annotations

from bot.core import wording as say
from bot.core.commands.context import ChatCall, Services, no, yes
from bot.core.events import CommandReply


async def highlight(services: Services, call: ChatCall) -> CommandReply:
    """Adapters send it from a message's menu, with the message id as the argument. It
    applies to the message's own run, which may have ended: a posted recap is updated. The
    same host again takes their pick back."""
    command, store = call.command, services.store
    message_id = call.args.text("message") or ""
    message = await store.find_message(command.platform, command.channel.id, message_id)
    if message is None or message.id is None:
        return no(say.NOT_RECORDED)
    user = command.user
    if await store.add_pick(message.id, user.id, user.label, command.at):
        done = say.HIGHLIGHTED
    elif await store.remove_pick(message.id, user.id):
        done = say.HIGHLIGHT_REMOVED
    else:  # taken back at the same moment by a second /highlight: nothing left to undo
        return no(say.BUSY)
    await services.engine.refresh_recap(message.run_id)  # a no-op until the recap is posted
    return yes(done)
