"""/extendchat 15 means 15 minutes in Slack too (the core parses what hosts type)."""

from __future__ import annotations

from tests.slack.world import KATE, SlackWorld


async def test_extendchat_with_a_bare_number_adds_minutes(world: SlackWorld) -> None:
    await world.command("startchat", user=KATE)
    await world.at(5)
    answer = await world.command("extendchat", "15", user=KATE)
    assert answer["text"].startswith("Extended by 15m: ends "), answer["text"]
