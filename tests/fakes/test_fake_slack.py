"""Proves FakeSlack speaks Slack well enough for the *real* slack_sdk / slack_bolt code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond, AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from . import slack_requests as sr
from .slack_api import FakeSlack

SECRET = "test-signing-secret"


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


def web_client(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url, **kwargs)


# --------------------------------------------------------------------------- Web API


@pytest.mark.asyncio
async def test_web_client_methods_are_recorded(fake: FakeSlack) -> None:
    client = web_client(fake)

    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T0001")
    assert fake.calls_to("auth.test")[0].token == "xoxb-test"

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Q1*"}}]
    first = await client.chat_postMessage(channel="C0001", text="hello", blocks=blocks)
    reply = await client.chat_postMessage(channel="C0001", text="reply", thread_ts=first["ts"])
    assert first["channel"] == "C0001"
    assert first["message"]["text"] == "hello"
    assert first["message"]["blocks"] == blocks
    assert first["message"]["user"] == "UBOT"
    assert reply["message"]["thread_ts"] == first["ts"]
    assert float(reply["ts"]) > float(first["ts"])
    assert [m["text"] for m in fake.posted_messages("C0001")] == ["hello", "reply"]
    assert fake.posted_messages("C0001")[0]["blocks"] == blocks

    info = await client.conversations_info(channel="C0001")
    assert "num_members" not in info["channel"]  # like Slack: only when asked for
    call = fake.calls_to("conversations.info")[0]
    assert (call.http_method, call.args) == ("GET", {"channel": "C0001"})
    info = await client.conversations_info(channel="C0001", include_num_members=True)
    assert info["channel"]["num_members"] == 3

    user = await client.users_info(user="U0001")
    assert (user["user"]["tz"], user["user"]["tz_offset"]) == ("Europe/Berlin", 3600)
    dm = await client.conversations_open(users="U0002")
    assert dm["channel"]["id"] == "DU0002"
    members = await client.conversations_members(channel="C0001")
    assert "U0001" in members["members"]

    await client.chat_update(channel="C0001", ts=first["ts"], text="edited")
    assert fake.messages["C0001"][0]["text"] == "edited"
    await client.reactions_add(channel="C0001", timestamp=first["ts"], name="wave")
    with pytest.raises(SlackApiError) as already:
        await client.reactions_add(channel="C0001", timestamp=first["ts"], name="wave")
    assert already.value.response["error"] == "already_reacted"
    await client.chat_postEphemeral(channel="C0001", user="U0001", text="psst")
    await client.chat_delete(channel="C0001", ts=reply["ts"])
    with pytest.raises(SlackApiError) as gone:
        await client.chat_update(channel="C0001", ts=reply["ts"], text="x")
    assert gone.value.response["error"] == "message_not_found"

    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("chat.doesNotExist")
    assert unknown.value.response["error"] == "unknown_method"


@pytest.mark.asyncio
async def test_files_upload_v2_flow(fake: FakeSlack) -> None:
    client = web_client(fake)
    result = await client.files_upload_v2(
        channel="C0001", content="a,b\n1,2\n", filename="q1.csv", title="Q1 results"
    )
    assert result["file"]["title"] == "Q1 results"
    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert fake.calls_to("files.getUploadURLExternal")[0].args["length"] == "8"
    file_id = result["file"]["id"]
    assert fake.uploads[file_id] == b"a,b\n1,2\n"
    complete = fake.calls_to("files.completeUploadExternal")[0].args
    assert complete["channel_id"] == "C0001"
    assert complete["files"] == [{"id": file_id, "title": "Q1 results"}]


@pytest.mark.asyncio
async def test_rate_limit_is_enforced_and_retried(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", per_second=1.0, burst=2)
    client = web_client(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    for i in range(3):
        await client.chat_postMessage(channel="C0001", text=f"m{i}")
    assert [m["text"] for m in fake.posted_messages("C0001")] == ["m0", "m1", "m2"]
    assert fake.ratelimited_count >= 1
    assert all(c.status == 429 for c in fake.rejected)
    # other channels have their own bucket
    await client.chat_postMessage(channel="C0002", text="elsewhere")


@pytest.mark.asyncio
async def test_rate_limit_without_retry_handler_surfaces_429(fake: FakeSlack) -> None:
    fake.rate_limit("chat.postMessage", per_second=0.5, burst=1)
    client = web_client(fake)
    await client.chat_postMessage(channel="C0001", text="first")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0001", text="second")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert err.value.response.headers["Retry-After"] == "2"
    assert fake.ratelimited_count == 1
    assert len(fake.posted_messages()) == 1


@pytest.mark.asyncio
async def test_fail_next_is_retried_and_lands_once(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=500, times=2)
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    # NB: one RetryState is shared by all handlers of a request, so max_retry_count caps the
    # *total* retries so far, not per handler: 3 here, else the 429 after two 500s is not retried.
    handlers = [
        AsyncServerErrorRetryHandler(
            max_retry_count=3, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
        ),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    ]
    client = web_client(fake, retry_handlers=handlers)
    await client.chat_postMessage(channel="C0001", text="eventually")
    assert [m["text"] for m in fake.posted_messages()] == ["eventually"]
    assert [c.status for c in fake.rejected] == [500, 500, 429]
    assert fake.ratelimited_count == 1


@pytest.mark.asyncio
async def test_response_url_and_wait_for(fake: FakeSlack) -> None:
    url = fake.response_url("cmd1")

    async def later() -> None:
        async with aiohttp.ClientSession() as session:
            await session.post(url, json={"text": "done", "response_type": "ephemeral"})

    task = asyncio.create_task(later())
    calls = await fake.wait_for("response_url:cmd1", timeout=2)
    await task
    assert calls[0].args == {"text": "done", "response_type": "ephemeral"}
    with pytest.raises(AssertionError, match="timed out"):
        await fake.wait_for("chat.postMessage", timeout=0.05)


# --------------------------------------------------------------------------- bolt over HTTP


def build_app(fake: FakeSlack, seen: list[tuple[str, dict[str, Any]]]) -> AsyncApp:
    """A bolt app whose Web API client talks to the fake; listeners log into ``seen``."""
    app = AsyncApp(
        # NB: the token must be on the client; AsyncApp(token=..., client=...) ignores token.
        client=web_client(fake),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.event("message")
    async def on_message(event: dict[str, Any], say: AsyncSay, request: AsyncBoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num", [None])[0]
        seen.append(("message", {**event, "_retry": retry}))
        if event.get("subtype") is None:
            await say(text=f"echo: {event['text']}", thread_ts=event["ts"])

    @app.event("reaction_added")
    async def on_reaction(event: dict[str, Any]) -> None:
        seen.append(("reaction_added", event))

    @app.command("/chat")
    async def on_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, say: AsyncSay
    ) -> None:
        await ack(f"got {command['text']}")
        seen.append(("command", command))
        await respond("deferred")
        await say("public")

    @app.action("join")
    async def on_join(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        seen.append(("action", body))

    return app


@asynccontextmanager
async def serve(app: AsyncApp) -> AsyncIterator[str]:
    """Serve bolt's own aiohttp app on a free port; yields the events URL."""
    runner = web.AppRunner(app.web_app(path="/slack/events"), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_bolt_over_http_receives_signed_requests(fake: FakeSlack) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    app = build_app(fake, seen)
    async with serve(app) as url, aiohttp.ClientSession() as http:
        event = sr.message_event("hi there", user="U0001", channel="C0001")
        body, headers = sr.signed_event_request(SECRET, sr.event_callback(event))
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        # process_before_response=True: the listener finished before the HTTP response
        assert seen[-1][0] == "message"
        assert seen[-1][1]["_retry"] is None
        echo = fake.posted_messages("C0001")[-1]
        assert (echo["text"], echo["thread_ts"]) == ("echo: hi there", event["ts"])
        assert len(fake.calls_to("auth.test")) == 1  # bolt's single-team authorization

        # retried delivery: bolt passes the header through to listeners
        body, headers = sr.signed_event_request(
            SECRET, sr.event_callback(event), retry_num=1, retry_reason="http_timeout"
        )
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        assert seen[-1][1]["_retry"] == "1"

        edited = sr.message_changed_event(ts=event["ts"], text="hi!", previous_text="hi there")
        deleted = sr.message_deleted_event(deleted_ts=event["ts"], previous_text="hi!")
        for payload in (edited, deleted):
            body, headers = sr.signed_event_request(SECRET, sr.event_callback(payload))
            async with http.post(url, data=body, headers=headers) as resp:
                assert resp.status == 200
        assert seen[-2][1]["message"]["ts"] == event["ts"]
        assert seen[-1][1]["deleted_ts"] == event["ts"]

        # bolt drops events authored by its own bot user (auth.test user_id)
        count = len(seen)
        own = sr.event_callback(sr.message_event("mine", user="UBOT", bot_id="BBOT"))
        body, headers = sr.signed_event_request(SECRET, own)
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        assert len(seen) == count

        reaction = sr.reaction_event("thumbsup", item_ts=event["ts"])
        body, headers = sr.signed_event_request(SECRET, sr.event_callback(reaction))
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        assert seen[-1] == ("reaction_added", reaction)

        command = sr.slash_command("/chat", "start Q1", response_url=fake.response_url("c1"))
        body, headers = sr.signed_command_request(SECRET, command)
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
            # over HTTP, ack("text") is a text/plain body (socket mode wraps it as {"text": ...})
            assert (resp.content_type, await resp.text()) == ("text/plain", "got start Q1")
        assert fake.calls_to("response_url:c1")[0].args["text"] == "deferred"
        assert fake.posted_messages("C0001")[-1]["text"] == "public"

        action = sr.block_actions("join", "Q1", response_url=fake.response_url("a1"))
        body, headers = sr.signed_interactive_request(SECRET, action)
        async with http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 200
        assert seen[-1][1]["actions"][0]["value"] == "Q1"

        count = len(seen)
        body, _ = sr.signed_event_request(SECRET, sr.event_callback(event))
        bad = sr.signed_headers("wrong-secret", body, content_type="application/json")
        async with http.post(url, data=body, headers=bad) as resp:
            assert resp.status == 401
        stale = sr.signed_headers(SECRET, body, timestamp=1_000_000_000, content_type="text/json")
        async with http.post(url, data=body, headers=stale) as resp:
            assert resp.status == 401
        assert len(seen) == count


# --------------------------------------------------------------------------- socket mode


@pytest.mark.asyncio
async def test_socket_mode_handler_round_trip(fake: FakeSlack) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    app = build_app(fake, seen)
    handler = AsyncSocketModeHandler(app, app_token="xapp-test")
    await handler.connect_async()
    try:
        opened = await fake.wait_for("apps.connections.open")
        assert opened[0].token == "xapp-test"
        await fake.wait_socket_connected()
        # the SDK pings right after connecting and parses our echo to track liveness
        await fake.wait_until(lambda: bool(fake.socket_pings), what="client ping")
        assert fake.socket_pings[0].startswith(b"sdk-ping-pong:")
        await fake.ping_socket(b"server-ping")

        event = sr.message_event("over the socket")
        envelope_id = await fake.push_socket_event("events_api", sr.event_callback(event))
        ack = await fake.wait_ack(envelope_id)
        assert ack == {"envelope_id": envelope_id}
        await fake.wait_for("chat.postMessage")
        assert fake.posted_messages("C0001")[0]["text"] == "echo: over the socket"
        # bolt maps the envelope's retry_attempt to the x-slack-retry-num header ("0" = first)
        assert seen[0][1]["_retry"] == "0"

        command = sr.slash_command("/chat", "now", response_url=fake.response_url("s1"))
        envelope_id = await fake.push_socket_event("slash_commands", command)
        ack = await fake.wait_ack(envelope_id)
        assert ack == {"envelope_id": envelope_id, "payload": {"text": "got now"}}
        await fake.wait_for("response_url:s1")

        # Slack periodically asks clients to reconnect; the SDK reopens via apps.connections.open
        await fake.push_socket_disconnect()
        await fake.wait_for("apps.connections.open", count=2)
        await fake.wait_socket_connected(count=2)
        action = sr.block_actions("join", "Q2")
        envelope_id = await fake.push_socket_event("interactive", action)
        assert await fake.wait_ack(envelope_id) == {"envelope_id": envelope_id}
        assert seen[-1][0] == "action"

        # a dropped connection (server-side close) is re-established by the SDK on its own
        await fake.drop_sockets()
        await fake.wait_socket_connected(count=3)
        envelope_id = await fake.push_socket_event("events_api", sr.event_callback(event))
        await fake.wait_ack(envelope_id)
        assert await handler.client.is_connected()
    finally:
        await handler.close_async()


@pytest.mark.asyncio
async def test_socket_hello_and_envelope_shape(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{fake.api_url}apps.connections.open",
            headers={"Authorization": "Bearer xoxb-wrong-kind"},
        ) as resp:
            assert (await resp.json())["error"] == "not_allowed_token_type"
        async with http.ws_connect(fake.socket_url) as ws:
            hello = json.loads((await ws.receive()).data)
            assert hello["type"] == "hello"
            envelope_id = await fake.push_socket_event("events_api", {"type": "event_callback"})
            envelope = json.loads((await ws.receive()).data)
            assert envelope["envelope_id"] == envelope_id
            assert envelope["accepts_response_payload"] is False
            assert envelope["retry_attempt"] == 0
            await ws.send_str(json.dumps({"envelope_id": envelope_id, "payload": {"x": 1}}))
            assert (await fake.wait_ack(envelope_id))["payload"] == {"x": 1}
