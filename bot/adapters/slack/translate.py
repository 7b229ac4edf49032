"""Slack event payloads -> the core's platform-neutral events. Pure: no I/O.

Slack events carry ids only, so the results hold ids where names go (``ChannelRef(id)``,
``User(id, id)``); the adapter fills the names in from its cached directory afterwards. A
payload that lacks a field or has one of the wrong type raises :class:`MalformedEvent`, which
the adapter logs with the event id and skips.

Message text leaves here as people read it (:func:`plain_text`): the core knows no Slack
markup, so links, mentions and escapes are turned into plain text first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.events import (
    ChannelRef,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    PlatformEvent,
    ReactionChanged,
    User,
)

PLATFORM = "slack"

# Message subtypes in which a person says something; the others (joins, topic changes,
# pins, bot posts, ...) are not answers and are ignored.
SPOKEN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})
# chathost runs chats in channels; direct messages to the bot are not part of any chat.
IGNORED_CHANNEL_TYPES = frozenset({"im"})


# Slack's control sequences in message text: <@U1>, <#C1|name>, <!here>, <https://x|label>.
_CONTROL = re.compile(r"<([@#!]?)([^<>|\s]+)(?:\|([^<>]*))?>")
_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))  # &amp; last: "&amp;lt;" is "&lt;"


def plain_text(text: str) -> str:
    """Slack's message markup as people read it: ``<https://x|the docs>`` is
    ``the docs (https://x)``, ``<@U1>`` is ``@U1``, ``<#C1|general>`` is ``#general``,
    ``<!here>`` is ``@here``, and ``&amp;``, ``&lt;``, ``&gt;`` are ``&``, ``<``, ``>``."""
    if "<" in text:
        text = _CONTROL.sub(_readable, text)
    if "&" in text:
        for escaped, character in _ESCAPES:
            text = text.replace(escaped, character)
    return text


def _readable(match: re.Match[str]) -> str:
    sigil, target, label = match.group(1), match.group(2), match.group(3)
    if sigil == "@":
        return f"@{label or target}"
    if sigil == "#":
        return f"#{label or target}"
    if sigil == "!":  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        return label if label else f"@{target.split('^')[0]}"
    if not label or label == target or target.endswith(f"://{label}"):
        return target.removeprefix("mailto:")
    return label if target.startswith("mailto:") else f"{label} ({target})"


class MalformedEvent(ValueError):
    """A payload chathost cannot read; logged and skipped, never fatal."""


def text_field(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    """A string field; missing or wrong-typed required fields raise MalformedEvent."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedEvent(f"field {key!r} should be a non-empty string, got {value!r}")
    return value


def optional_text(data: Mapping[str, Any], key: str) -> str | None:
    """A string field that may be absent (a message's ``subtype``); None when it is."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedEvent(f"field {key!r} should be a string, got {value!r}")
    return value


def mapping_field(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"field {key!r} should be an object, got {type(value).__name__}")
    return value


def ts_to_datetime(ts: object) -> datetime:
    """Slack's ``"1700000000.000100"`` message ids are also the post time (UTC seconds)."""
    if not isinstance(ts, str):
        raise MalformedEvent(f"timestamp should be a string, got {ts!r}")
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedEvent(f"{ts!r} is not a Slack timestamp") from exc


def is_from_bot(event: Mapping[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def translate(event: Mapping[str, Any]) -> PlatformEvent | None:
    """The core event for a Slack event, or None when chathost has no use for it."""
    if not isinstance(event, Mapping):
        raise MalformedEvent(f"event should be an object, got {type(event).__name__}")
    kind = event.get("type")
    if kind == "message":
        return _message(event)
    if kind in ("reaction_added", "reaction_removed"):
        return _reaction(event, added=kind == "reaction_added")
    return None


def _message(event: Mapping[str, Any]) -> PlatformEvent | None:
    if optional_text(event, "channel_type") in IGNORED_CHANNEL_TYPES:
        return None
    subtype = optional_text(event, "subtype")
    if subtype == "message_changed":
        return _edit(event)
    if subtype == "message_deleted":
        channel = ChannelRef(text_field(event, "channel"))
        deleted = text_field(event, "deleted_ts")
        return MessageDeleted(PLATFORM, channel, deleted, ts_to_datetime(event.get("ts")))
    if is_from_bot(event) or subtype not in SPOKEN_SUBTYPES:
        return None
    ts = text_field(event, "ts")
    at = ts_to_datetime(ts)
    user_id = text_field(event, "user")
    thread_ts = text_field(event, "thread_ts", required=False)
    return IncomingMessage(
        platform=PLATFORM,
        channel=ChannelRef(text_field(event, "channel")),
        message_id=ts,
        user=User(user_id, user_id),
        text=plain_text(text_field(event, "text", required=False)),
        at=at,
        # A thread's parent carries thread_ts == ts; only replies belong to a thread.
        thread_id=thread_ts if thread_ts and thread_ts != ts else None,
    )


def _edit(event: Mapping[str, Any]) -> MessageEdited | None:
    message = mapping_field(event, "message")
    if is_from_bot(message):
        return None
    edited = message.get("edited")
    at_ts = edited.get("ts") if isinstance(edited, Mapping) else None
    return MessageEdited(
        PLATFORM,
        ChannelRef(text_field(event, "channel")),
        text_field(message, "ts"),
        plain_text(text_field(message, "text", required=False)),
        ts_to_datetime(at_ts if isinstance(at_ts, str) else event.get("ts")),
    )


def _reaction(event: Mapping[str, Any], *, added: bool) -> ReactionChanged | None:
    item = mapping_field(event, "item")
    if item.get("type") != "message":
        return None  # reactions on files and file comments are not about chat answers
    user_id = text_field(event, "user")
    return ReactionChanged(
        PLATFORM,
        ChannelRef(text_field(item, "channel")),
        text_field(item, "ts"),
        User(user_id, user_id),
        text_field(event, "reaction"),  # as Slack names it: "+1", "star", "tada"
        added,
        ts_to_datetime(event.get("event_ts")),
    )


def user_of(event: PlatformEvent) -> User | None:
    """The acting user, for the events that have one."""
    return event.user if isinstance(event, IncomingMessage | ReactionChanged) else None
