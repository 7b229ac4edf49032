"""Host and participant commands, declared once in ``table``: /startchat, /nextq, /skipq,
/pausechat, /resumechat, /extendchat, /endchat, /highlight, /chatstatus, /chats, /quietchat,
/forgetme.

Adapters carry the typed text in and the answer out; the core parses the arguments
(``args``), decides and answers (``dispatch``, with a handler module per kind of command).
Answers are plain text that the adapter shows only to the caller unless marked public.
"""

from bot.core.commands.args import Args, ArgumentsRefused, LinkReader, message_ids, parse_args
from bot.core.commands.dispatch import Commands
from bot.core.commands.table import (
    ALL_COMMANDS,
    COMMANDS,
    HOST_COMMANDS,
    Arg,
    ArgKind,
    CommandSpec,
    Who,
    command_named,
)

__all__ = [
    "ALL_COMMANDS",
    "COMMANDS",
    "HOST_COMMANDS",
    "Arg",
    "ArgKind",
    "Args",
    "ArgumentsRefused",
    "CommandSpec",
    "Commands",
    "LinkReader",
    "Who",
    "command_named",
    "message_ids",
    "parse_args",
]
