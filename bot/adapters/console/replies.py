"""The rehearsal's replies file: the incoming messages of a simulated chat, in YAML."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from bot.core.durations import format_offset, parse_signed_duration
from bot.core.plan_types import PlatformName
from bot.core.yaml_positions import PositionedValidator, read_positioned

Offset = Annotated[
    timedelta,
    BeforeValidator(parse_signed_duration),
    PlainSerializer(format_offset, return_type=str),
]


class Reply(BaseModel):
    """One incoming message. ``text`` starting with ``/`` is a command (e.g. ``/nextq``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Offset = Field(
        description="MM:SS or H:MM:SS after the chat starts (1d 02:30:00 or 26:30:00 a day "
        "later); -MM:SS before."
    )
    # A person's name or numeric id (a Telegram id written bare reads as a number), as in
    # the plan's hosts.
    user: PlatformName = Field(min_length=1)
    text: str
    thread: str | None = Field(default=None, description="Posted in this question's thread.")
    reply_to: int | None = Field(default=None, ge=0, description="Index of an earlier entry.")
    reactions: dict[str, list[PlatformName]] = Field(default_factory=dict)
    edit: str | None = Field(default=None, description="Later replaced by this text.")
    edit_at: Offset | None = None
    delete_at: Offset | None = None


class _RepliesValidator(PositionedValidator):
    def run(self) -> list[Reply]:
        data = self.doc.data if self.doc.data is not None else []
        if not isinstance(data, list):
            self.add((), "the replies file must be a list of messages")
            self.raise_if_any()
        replies = []
        for index, raw in enumerate(data):
            reply = self.validate(Reply, raw, (index,))
            if reply is None:
                continue
            if reply.reply_to is not None and reply.reply_to >= index:
                self.add((index, "reply_to"), "must name an earlier entry")
            if reply.edit_at is not None and reply.edit is None:
                self.add((index, "edit_at"), "needs an 'edit' text")
            # A message cannot change before it is sent (the delete would find nothing, and
            # the message would then count though it was meant gone).
            for key, when in (("edit_at", reply.edit_at), ("delete_at", reply.delete_at)):
                if when is not None and when < reply.at:
                    sent = format_offset(reply.at)
                    self.add((index, key), f"comes before the message is sent (at: {sent})")
            replies.append(reply)
        self.raise_if_any()
        return replies


def load_replies(path: str | Path) -> list[Reply]:
    doc, name = read_positioned(path)
    return _RepliesValidator(doc, name, Reply).run()


def edit_time(reply: Reply) -> timedelta:
    return reply.edit_at if reply.edit_at is not None else reply.at + timedelta(seconds=30)
