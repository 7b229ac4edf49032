"""Sending: many posts to one Slack channel through the real SlackPort and its send queue,
against the local fake Slack Web API enforcing a per-channel rate limit with 429s.

Slack's limit is about one message per second per channel; 200 messages at that rate take
199 s at the least, too long next to the other benchmarks, so the limit is scaled: the fake
allows ``per_second`` and the queue's interval is set to match (the adapter's
``send_interval``). All posts are asked for at once, as when several chats' steps fall due
together; the queue must pace them so that Slack refuses none.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.directory import Directory
from bot.adapters.slack.port import SlackPort
from bot.adapters.slack.send_queue import SendQueue
from bot.core.ports import Outgoing
from tests.fakes.slack_api import FakeSlack


@dataclass(frozen=True)
class SendOutcome:
    messages: int
    delivered: int
    rate_limited: int
    late_429s: int  # 429s after the first one
    seconds: float
    minimum: float
    in_order: bool


async def run_sending(messages: int = 200, per_second: float = 10.0) -> SendOutcome:
    async with FakeSlack() as fake:
        fake.rate_limit("chat.postMessage", per_second=per_second, burst=1)
        client = AsyncWebClient(token="xoxb-bench", base_url=fake.api_url)
        port = SlackPort(client, SendQueue(interval=1.0 / per_second), Directory(client))
        await port.directory.channel_id("general")  # the channel list, read once up front
        started = time.monotonic()
        await asyncio.gather(
            *(
                port.post("general", Outgoing("question", f"message {i}", "Bench", "#bench"))
                for i in range(messages)
            )
        )
        seconds = time.monotonic() - started
        refused = [c.at for c in fake.rejected if c.status == 429]
        texts = [m.get("text") for m in fake.posted_messages("C0001")]
    return SendOutcome(
        messages=messages,
        delivered=len(texts),
        rate_limited=len(refused),
        late_429s=max(0, len(refused) - 1),
        seconds=seconds,
        minimum=(messages - 1) / per_second,
        in_order=texts == [f"message {i}" for i in range(messages)],
    )
