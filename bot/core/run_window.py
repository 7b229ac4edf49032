"""When and where a run takes messages: the rules both recorders (the per-event ``Intake``
and the group-commit ``IngestBatcher``) apply, kept here so that neither imports the other."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.events import ChannelRef
from bot.core.plan import Chat
from bot.core.run_states import LIVE, WAITING
from bot.core.store import RunRow

PRE_CHAT = timedelta(minutes=30)
MAX_LATE_WINDOW = timedelta(days=1)


def in_channel(run: RunRow, channel: ChannelRef) -> bool:
    """Whether a message in ``channel`` can belong to ``run``: the plan names the channel (by
    id or name), or the run's first post landed there (its id, kept through a rename)."""
    pinned = run.channel_id is not None and channel.id == run.channel_id
    return pinned or channel.matches(run.channel)


def accepts(run: RunRow, chat: Chat, at: datetime) -> bool:
    """Whether ``run`` takes a message sent at ``at``: from half an hour before its start until
    its late window closes."""
    if run.state in LIVE:
        return True
    if run.state in WAITING:
        return at >= run.scheduled_start - PRE_CHAT
    if run.ended_at is None:
        return False
    return at <= run.ended_at + chat.summary.late_window
