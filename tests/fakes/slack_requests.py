"""Builders for what Slack *sends to* an app: Events API envelopes, slash commands, interactions.

The shapes follow Slack's documented payloads, so that the real slack_bolt parsing and matching
code sees what production sees.  The same dicts work for both transports:

* HTTP: encode with ``encode_json`` / ``encode_form`` / ``encode_interactive`` and sign with
  ``signed_headers`` (or use the ``signed_*_request`` shortcuts that return ``(body, headers)``);
* Socket Mode: pass the dict as the payload to ``FakeSlack.push_socket_event``.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0001"
TEAM_DOMAIN = "fake"
APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"

_ts_counter = itertools.count(1)


def new_ts() -> str:
    """A unique, increasing Slack timestamp ("seconds.micro") for events built by tests."""
    return f"{int(time.time())}.{next(_ts_counter):06d}"


# --------------------------------------------------------------------------- events


def message_event(
    text: str,
    *,
    user: str = "U0001",
    channel: str = "C0001",
    ts: str | None = None,
    thread_ts: str | None = None,
    parent_user_id: str | None = None,
    channel_type: str = "channel",
    bot_id: str | None = None,
    subtype: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    team: str = TEAM_ID,
) -> dict[str, Any]:
    """A plain ``message`` event (thread reply when ``thread_ts`` is given)."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "team": team,
    }
    if subtype is not None:
        event["subtype"] = subtype
    if bot_id is not None:
        event["bot_id"] = bot_id
    if subtype is None and bot_id is None:
        event["client_msg_id"] = str(uuid.uuid4())
    if blocks is not None:
        event["blocks"] = blocks
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = parent_user_id or user
    return event


def message_changed_event(
    *,
    ts: str,
    text: str,
    previous_text: str,
    user: str = "U0001",
    channel: str = "C0001",
    thread_ts: str | None = None,
    edited_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """An edit: top-level ``ts`` is the *event's* ts; the edited message's ts is ``message.ts``."""
    event_ts = edited_ts or new_ts()
    message: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "edited": {"user": user, "ts": event_ts},
    }
    previous: dict[str, Any] = {"type": "message", "user": user, "text": previous_text, "ts": ts}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        previous["thread_ts"] = thread_ts
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "ts": event_ts,
        "event_ts": event_ts,
        "message": message,
        "previous_message": previous,
        "channel_type": channel_type,
    }


def message_deleted_event(
    *,
    deleted_ts: str,
    previous_text: str = "",
    user: str = "U0001",
    channel: str = "C0001",
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A deletion: the removed message's ts is ``deleted_ts`` (there is no ``message`` key)."""
    event_ts = new_ts()
    previous: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": previous_text,
        "ts": deleted_ts,
    }
    if thread_ts is not None:
        previous["thread_ts"] = thread_ts
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel,
        "ts": event_ts,
        "event_ts": event_ts,
        "deleted_ts": deleted_ts,
        "previous_message": previous,
        "channel_type": channel_type,
    }


def reaction_event(
    reaction: str,
    *,
    item_ts: str,
    user: str = "U0001",
    channel: str = "C0001",
    item_user: str | None = BOT_USER_ID,
    added: bool = True,
) -> dict[str, Any]:
    """``reaction_added`` / ``reaction_removed``; ``reaction`` is the emoji name without colons."""
    event: dict[str, Any] = {
        "type": "reaction_added" if added else "reaction_removed",
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": item_ts},
        "event_ts": new_ts(),
    }
    if item_user is not None:
        event["item_user"] = item_user
    return event


def member_joined_event(
    user: str,
    *,
    channel: str = "C0001",
    inviter: str | None = None,
    channel_type: str = "C",
    team: str = TEAM_ID,
) -> dict[str, Any]:
    """``member_joined_channel`` (note: ``channel_type`` is "C"/"G" here, not "channel")."""
    event: dict[str, Any] = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": channel_type,
        "team": team,
        "event_ts": new_ts(),
    }
    if inviter is not None:
        event["inviter"] = inviter
    return event


def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """Wraps an event in the ``event_callback`` envelope.

    The result is the HTTP body, or the payload of a Socket Mode ``events_api`` envelope.
    """
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


# --------------------------------------------------------------------------- commands


def slash_command(
    command: str,
    text: str = "",
    *,
    user_id: str = "U0001",
    user_name: str = "alice",
    channel_id: str = "C0001",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    response_url: str = "https://hooks.slack.invalid/commands/unused",
    trigger_id: str | None = None,
) -> dict[str, str]:
    """Slash command fields (form-encoded over HTTP, a JSON object over Socket Mode)."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
    }


def block_actions(
    action_id: str,
    value: str = "",
    *,
    user_id: str = "U0001",
    user_name: str = "alice",
    channel_id: str = "C0001",
    message_ts: str | None = None,
    block_id: str = "b1",
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    response_url: str = "https://hooks.slack.invalid/actions/unused",
) -> dict[str, Any]:
    """A button click (``block_actions`` interaction payload)."""
    ts = message_ts or new_ts()
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", "user": BOT_USER_ID, "ts": ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": value or action_id},
                "action_ts": new_ts(),
            }
        ],
    }


def message_shortcut(
    callback_id: str,
    *,
    message_ts: str,
    user_id: str = "U0001",
    user_name: str = "alice",
    channel_id: str = "C0001",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    response_url: str = "https://hooks.slack.invalid/actions/unused",
) -> dict[str, Any]:
    """A message shortcut chosen from a message's menu (``message_action`` payload)."""
    return {
        "type": "message_action",
        "token": "verification-token-unused",
        "action_ts": new_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "channel": {"id": channel_id, "name": channel_name},
        "callback_id": callback_id,
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().hex[:12]}",
        "message_ts": message_ts,
        "message": {"type": "message", "user": user_id, "ts": message_ts, "text": ""},
        "response_url": response_url,
    }


# --------------------------------------------------------------------------- encoding/signing


def encode_json(payload: dict[str, Any]) -> bytes:
    """Events API body."""
    return json.dumps(payload).encode()


def encode_form(fields: dict[str, str]) -> bytes:
    """Slash command body."""
    return urlencode(fields).encode()


def encode_interactive(payload: dict[str, Any]) -> bytes:
    """Interactivity body: a form with one ``payload`` field holding JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_headers(
    secret: str,
    body: bytes,
    timestamp: int | None = None,
    *,
    content_type: str | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> dict[str, str]:
    """Headers Slack would send: v0 HMAC-SHA256 over ``v0:{ts}:{body}``.

    ``retry_num``/``retry_reason`` add ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` (e.g.
    ``1``/``"http_timeout"``) as Slack does when it re-delivers an event that was not acked in 3s.
    A ``timestamp`` older than 5 minutes is rejected by bolt even with a valid signature.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return headers


def signed_event_request(
    secret: str,
    payload: dict[str, Any],
    *,
    retry_num: int | None = None,
    retry_reason: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` for POSTing an ``event_callback`` envelope to the app."""
    body = encode_json(payload)
    headers = signed_headers(
        secret,
        body,
        content_type="application/json",
        retry_num=retry_num,
        retry_reason=retry_reason,
    )
    return body, headers


def signed_command_request(secret: str, fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` for POSTing a slash command to the app."""
    body = encode_form(fields)
    return body, signed_headers(secret, body, content_type="application/x-www-form-urlencoded")


def signed_interactive_request(
    secret: str, payload: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """``(body, headers)`` for POSTing an interaction (button click, ...) to the app."""
    body = encode_interactive(payload)
    return body, signed_headers(secret, body, content_type="application/x-www-form-urlencoded")
