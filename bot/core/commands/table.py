"""The command table: every host and participant command, declared once.

Why one table: the commands used to be written four times (the core, Discord's app command
tree, Slack's parsing and its manifest), and ``/extendchat 15`` came to mean 15 minutes on one
platform and 15 seconds on another. Now the core parses what people type against this table,
Discord's tree and Slack's manifest are generated from it, and tests hold the README to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from bot.core import wording as say


class Who(StrEnum):
    """Who may run a command: the chat's hosts and co-hosts, or anyone."""

    HOSTS = "hosts"
    ANYONE = "anyone"


class ArgKind(StrEnum):
    """What an argument holds; each kind has one parser in ``args.py``."""

    DURATION = "duration"  # ``15`` (a bare number is minutes), ``10m``, ``1h30m``
    CHAT = "chat"  # a chat id from the plan; platforms complete it from the plan
    MESSAGE = "message"  # a message, as its link or id (adapters read the link)
    TEXT = "text"  # free text: the rest of the line
    SWITCH = "switch"  # one word that turns an option on (``/quietchat off``)


@dataclass(frozen=True)
class Arg:
    """One typed argument. ``name`` is the option's name on Discord and the placeholder in
    usage lines; ``help`` is its one-line description (Discord allows 100 characters)."""

    name: str
    kind: ArgKind
    help: str
    required: bool = False
    # SWITCH only: the words that turn it on, the first one shown in usage lines.
    words: tuple[str, ...] = ()

    @property
    def placeholder(self) -> str:
        """How usage lines show it: ``message``, ``[chat]``, ``[off]``."""
        shown = self.words[0] if self.kind is ArgKind.SWITCH else self.name
        return shown if self.required else f"[{shown}]"


@dataclass(frozen=True)
class CommandSpec:
    """One command: its name (without the slash), who may use it, its typed arguments, its
    help line, and whether its answer is shown to the channel (else only to the caller)."""

    name: str
    who: Who
    help: str
    args: tuple[Arg, ...] = ()
    public: bool = False
    # The name of the message menu entry that runs it on the message it was opened on
    # (Slack's message shortcut, Discord's Apps menu); empty for none.
    menu: str = ""

    @property
    def usage(self) -> str:
        """``/extendchat [duration] [chat]``: the README's and Slack's usage line."""
        return " ".join([f"/{self.name}", *(a.placeholder for a in self.args)])

    @property
    def in_chat(self) -> bool:
        """Whether it acts on one chat (named, or the one planned in the channel): host
        commands need the chat for its hosts, and any command that takes a chat id does."""
        return self.who is Who.HOSTS or any(a.kind is ArgKind.CHAT for a in self.args)

    @property
    def description(self) -> str:
        """The help line as the platforms list it, with who may use it."""
        return say.HELP_FOR_HOSTS.format(help=self.help) if self.who is Who.HOSTS else self.help


CHAT = Arg(
    "chat",
    ArgKind.CHAT,
    say.HELP_CHAT_ARG,
)
DURATION = Arg(
    "duration",
    ArgKind.DURATION,
    say.HELP_DURATION_ARG,
)
MESSAGE = Arg("message", ArgKind.MESSAGE, say.HELP_MESSAGE_ARG, required=True)
TITLE = Arg("title", ArgKind.TEXT, say.HELP_TITLE_ARG)
QUESTION = Arg("question", ArgKind.TEXT, say.HELP_QUESTION_ARG, required=True)
PERSON = Arg("person", ArgKind.TEXT, say.HELP_PERSON_ARG, required=True)
UNDO = Arg("undo", ArgKind.SWITCH, say.HELP_UNDO_ARG, words=("off", "no", "undo"))

HIGHLIGHT_MENU = say.HIGHLIGHT_MENU

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("startchat", Who.HOSTS, say.HELP_STARTCHAT, (CHAT, TITLE)),
    CommandSpec(
        "nextq",
        Who.HOSTS,
        say.HELP_NEXTQ,
        (CHAT,),
    ),
    CommandSpec("skipq", Who.HOSTS, say.HELP_SKIPQ, (CHAT,)),
    CommandSpec("pausechat", Who.HOSTS, say.HELP_PAUSECHAT, (CHAT,)),
    CommandSpec(
        "resumechat",
        Who.HOSTS,
        say.HELP_RESUMECHAT,
        (CHAT,),
    ),
    CommandSpec(
        "extendchat",
        Who.HOSTS,
        say.HELP_EXTENDCHAT,
        (DURATION, CHAT),
    ),
    CommandSpec("endchat", Who.HOSTS, say.HELP_ENDCHAT, (CHAT,)),
    CommandSpec("ask", Who.HOSTS, say.HELP_ASK, (QUESTION,)),
    CommandSpec("cohost", Who.HOSTS, say.HELP_COHOST, (PERSON,)),
    CommandSpec(
        "highlight",
        Who.HOSTS,
        say.HELP_HIGHLIGHT,
        (MESSAGE,),
        menu=HIGHLIGHT_MENU,
    ),
    CommandSpec(
        "chatstatus",
        Who.ANYONE,
        say.HELP_CHATSTATUS,
        (CHAT,),
    ),
    CommandSpec("chats", Who.ANYONE, say.HELP_CHATS),
    CommandSpec("quietchat", Who.ANYONE, say.HELP_QUIETCHAT, (UNDO,)),
    CommandSpec("forgetme", Who.ANYONE, say.HELP_FORGETME),
)

BY_NAME: Mapping[str, CommandSpec] = MappingProxyType({spec.name: spec for spec in COMMANDS})
HOST_COMMANDS = frozenset(spec.name for spec in COMMANDS if spec.who is Who.HOSTS)
ALL_COMMANDS = frozenset(BY_NAME)


def command_named(name: str) -> CommandSpec | None:
    """The command a platform named (``/NextQ`` and ``nextq`` alike), or None."""
    return BY_NAME.get(name.lstrip("/").lower())
