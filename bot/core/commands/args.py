"""Typed arguments: what a person typed after a command, turned into typed values or a
clear refusal, the same way on every platform.

A chat id is recognised wherever it stands (``/extendchat tea 15`` and ``/extendchat 15 tea``
alike), because that is how hosts type it; the other arguments take the remaining words in
the table's order, and free text takes the rest of the line.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from bot.core import wording as say
from bot.core.commands.table import Arg, ArgKind, CommandSpec
from bot.core.durations import DurationError, parse_typed_duration

Value = timedelta | str | bool
# A platform's reader of its own message links: the message id a link names, or None when
# the word is not such a link.
LinkReader = Callable[[str], str | None]


class ArgumentsRefused(ValueError):
    """What was typed does not fit the command; the text says why and how to use it."""


@dataclass(frozen=True)
class Args:
    """The typed values of one command, by argument name; absent ones are left out."""

    values: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))

    def duration(self, name: str) -> timedelta | None:
        value = self.values.get(name)
        return value if isinstance(value, timedelta) else None

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if isinstance(value, str) else None

    def switch(self, name: str) -> bool:
        return self.values.get(name) is True


def parse_args(spec: CommandSpec, text: str, chat_ids: Collection[str]) -> Args:
    """The typed values of ``text`` for ``spec``; ``ArgumentsRefused`` when it does not fit.

    ``chat_ids`` are the plan's chats: a word that names one is the chat argument."""
    words = text.split()
    values: dict[str, Value] = {}
    chat = next((a for a in spec.args if a.kind is ArgKind.CHAT), None)
    if chat is not None:
        named = next((w for w in words if w in chat_ids), None)
        if named is not None:
            values[chat.name] = named
            words.remove(named)
    for arg in spec.args:
        if arg.kind is ArgKind.CHAT or not words:
            continue
        if arg.kind is ArgKind.TEXT:
            values[arg.name] = " ".join(words)
            words = []
        else:
            values[arg.name] = _one_word(spec, arg, words.pop(0))
    if words:
        chat_named = chat is None or chat.name in values
        raise ArgumentsRefused(_leftover(spec, words, chat_ids, chat_named=chat_named))
    _check_required(spec, values)
    return Args(MappingProxyType(values))


def message_ids(spec: CommandSpec | None, text: str, read_link: LinkReader) -> str:
    """``text`` with every message link the platform can read replaced by the message's id:
    links are platform markup, which adapters turn into neutral ids before the core parses."""
    if spec is None or not any(a.kind is ArgKind.MESSAGE for a in spec.args):
        return text
    return " ".join(read_link(word) or word for word in text.split())


def _one_word(spec: CommandSpec, arg: Arg, word: str) -> Value:
    if arg.kind is ArgKind.DURATION:
        try:
            return parse_typed_duration(word)
        except DurationError as exc:
            raise ArgumentsRefused(str(exc)) from None
    if arg.kind is ArgKind.SWITCH:
        if word.lower() not in arg.words:
            raise ArgumentsRefused(
                say.BAD_SWITCH.format(word=word, name=spec.name, usage=spec.usage)
            )
        return True
    return word  # a message id (or a link the adapter could not read: the core says so)


def _leftover(
    spec: CommandSpec, words: list[str], chat_ids: Collection[str], *, chat_named: bool
) -> str:
    """The refusal for words no argument took: an unknown chat id, or simply too many."""
    if not chat_named and len(words) == 1:
        ids = ", ".join(sorted(chat_ids)) or "none"
        return say.UNKNOWN_CHAT.format(word=words[0], ids=ids)
    return say.TOO_MANY_ARGS.format(extra=" ".join(words), name=spec.name, usage=spec.usage)


def _check_required(spec: CommandSpec, values: Mapping[str, Value]) -> None:
    for arg in spec.args:
        if arg.required and arg.name not in values:
            raise ArgumentsRefused(
                say.MISSING_ARG.format(
                    name=spec.name, placeholder=arg.name, help=arg.help, usage=spec.usage
                )
            )
