"""HTTP mode's front door, over real HTTP: the signature first, then the body's shape.

Anyone on the internet can POST to ``/slack/events``: an unsigned request must be refused
before chathost reads it, and a signed one chathost cannot read must be answered 400 in one
log line, not 500 with a traceback (Slack retries 5xx, and a traceback per request floods the
log). Events chathost does not handle are acknowledged, or Slack would retry them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.fakes import slack_requests as sr
from tests.slack.world import BOB, CHANNEL, SECRET, SlackWorld

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# (what, body, content type): signed, each is answered 400
MALFORMED = [
    ("not JSON", b"{not json", JSON),
    ("a JSON list", b"[1, 2]", JSON),
    ("a JSON string", b'"hello"', JSON),
    ("JSON null", b"null", JSON),
    ("no type", _json({"event": {"type": "message"}}), JSON),
    (
        "a number for the renamed channel",
        _json({"type": "event_callback", "event": {"type": "channel_rename", "channel": 5}}),
        JSON,
    ),
    ("an event that is a string", _json({"type": "event_callback", "event": "x"}), JSON),
    ("an event without a type", _json({"type": "event_callback", "event": {"a": 1}}), JSON),
    ("a number for the team", _json({"type": "event_callback", "team": 5, "event": {}}), JSON),
    ("an interaction that is a list", sr.encode_form({"payload": "[1]"}), FORM),
    ("an interaction that is not JSON", sr.encode_form({"payload": "{nope"}), FORM),
]

# signed, acknowledged 200 without being handled: Slack would retry anything else
IGNORED = [
    ("an event_callback without event", _json({"type": "event_callback", "event_id": "Ev1"})),
    (
        "an event type chathost does not subscribe to",
        _json(sr.event_callback({"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.2"})),
    ),
    (
        "Slack saying it dropped events",
        _json({"type": "app_rate_limited", "minute_rate_limited": 1}),
    ),
]


def _records_from(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


async def _post(world: SlackWorld, body: bytes, headers: dict[str, str]) -> int:
    assert world.adapter.url is not None
    async with world.http.post(world.adapter.url, data=body, headers=headers) as resp:
        return resp.status


async def test_unsigned_bodies_are_refused_before_they_are_read(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    bodies = [body for _, body, _ in MALFORMED] + [body for _, body in IGNORED]
    bodies.append(b'{"type": "event_callback", "x": "\xff"}')  # not UTF-8: no signature fits
    good = sr.encode_json(sr.event_callback(sr.message_event("A1 hi", channel=CHANNEL)))
    for body in [*bodies, good]:
        for headers in (
            {"Content-Type": JSON},  # no signature at all
            sr.signed_headers("not-the-secret", good, content_type=JSON),
            sr.signed_headers(SECRET, good, timestamp=1_000_000_000, content_type=JSON),
            {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        ):
            assert await _post(world, body, headers) == 401, body
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
    assert world.fake.calls_to("users.info") == []  # nothing reached the handlers


async def test_signed_bodies_chathost_cannot_read_get_400_in_one_log_line(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    for what, body, content_type in MALFORMED:
        caplog.clear()
        headers = sr.signed_headers(SECRET, body, content_type=content_type)
        assert await _post(world, body, headers) == 400, what
        warnings = _records_from(caplog, logging.WARNING)
        assert len(warnings) == 1, (what, [r.getMessage() for r in warnings])
        assert "400" in warnings[0].getMessage(), what
        assert not warnings[0].exc_info and "Traceback" not in caplog.text, what


async def test_events_chathost_does_not_handle_are_acknowledged(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chathost.slack")
    for what, body in IGNORED:
        caplog.clear()
        headers = sr.signed_headers(SECRET, body, content_type=JSON)
        assert await _post(world, body, headers) == 200, what
        assert _records_from(caplog, logging.WARNING) == [], what  # bolt's "Unhandled" too
        assert any(
            r.levelno == logging.DEBUG and "ignored" in r.getMessage() for r in caplog.records
        )
    # Slack's check of the URL is still bolt's to answer
    check = _json({"type": "url_verification", "token": "t", "challenge": "c-123"})
    assert world.adapter.url is not None
    headers = sr.signed_headers(SECRET, check, content_type=JSON)
    async with world.http.post(world.adapter.url, data=check, headers=headers) as resp:
        assert (resp.status, await resp.json()) == (200, {"challenge": "c-123"})
    # ... and a good signed event is still recorded
    await world.command("startchat")
    await world.at(5)
    await world.say("A1 still here", BOB)
    assert [m.text for m in await world.messages()] == ["A1 still here"]


async def test_wrong_typed_fields_in_a_handled_event_skip_it_in_one_log_line(
    world: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    await world.command("startchat")
    await world.at(5)
    odd_subtype = sr.message_event("A1 odd", user=BOB[0], channel=CHANNEL, ts=world.ts())
    odd_subtype["subtype"] = {"not": "a string"}
    odd_channel_type = sr.message_event("A1 odd", user=BOB[0], channel=CHANNEL, ts=world.ts())
    odd_channel_type["channel_type"] = ["im"]
    odd_profile = {"type": "user_change", "user": {"id": BOB[0], "name": "bob", "profile": "x"}}
    odd_join = sr.member_joined_event(BOB[0], channel=CHANNEL)
    odd_join["user"] = [BOB[0]]
    events = [odd_subtype, odd_channel_type, odd_profile, odd_join]
    for event in events:
        caplog.clear()
        payload = await world.event(event)  # acknowledged: a retry would fail the same way
        warnings = _records_from(caplog, logging.WARNING)
        assert len(warnings) == 1, (event, [r.getMessage() for r in warnings])
        assert payload["event_id"] in warnings[0].getMessage()
        assert not warnings[0].exc_info and "Traceback" not in caplog.text
    assert world.adapter.inbound.malformed == len(events)
    await world.say("A1 still listening", BOB)
    assert [(m.text, m.user_name) for m in await world.messages()] == [
        ("A1 still listening", "bob")
    ]
