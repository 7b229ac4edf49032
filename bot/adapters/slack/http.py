"""HTTP mode's ``/slack/events`` endpoint: checks a request before bolt sees it.

Bolt's own aiohttp adapter parses the body before its signature middleware runs, so anyone
could make it answer 500 (with a traceback in the log) by posting a body that is not JSON,
or JSON of an unexpected shape. Here the v0 signature is checked on the raw bytes first
(401 when it is wrong or missing), then the body's shape (400, one log line), and only then is
the request dispatched to bolt. An event chathost does not subscribe to is acknowledged here:
Slack retries every delivery not answered with 2xx.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("chathost.slack.http")

# Envelope types of the Events API that bolt answers itself (the rest are acknowledged here).
BOLT_ENVELOPES = frozenset({"url_verification", "event_callback"})


class MalformedRequest(ValueError):
    """A signed body chathost cannot read; answered 400."""


class EventsEndpoint:
    """The aiohttp handler for ``POST /slack/events``."""

    def __init__(self, app: AsyncApp, signing_secret: str, events: Collection[str]) -> None:
        self.app = app
        # SignatureVerifier refuses timestamps more than 5 minutes away (replays).
        self.verifier = SignatureVerifier(signing_secret)
        self.events = frozenset(events)

    def web_app(self, path: str) -> web.Application:
        web_app = web.Application()
        web_app.router.add_post(path, self.handle)
        return web_app

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self._signed(raw, request.headers):
            log.warning("refused a request without a valid Slack signature (401)")
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = read_body(raw, request.headers.get("Content-Type", ""))
            if ignored := self._ignored(body):
                log.debug("Slack request ignored (acknowledged): %s", ignored)
                return web.Response(status=200)
            bolt_request = _bolt_request(request, raw)
        except MalformedRequest as exc:
            log.warning("refused a signed Slack request chathost cannot read (400): %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    def _signed(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        try:
            return self.verifier.is_valid_request(raw, dict(headers))
        except (ValueError, TypeError):  # a timestamp that is no number, a body not UTF-8
            return False

    def _ignored(self, body: Body) -> str | None:
        """Why a well-formed request needs no handling (None: hand it to bolt)."""
        if not body.events_api:
            return None  # slash commands and interactions: bolt routes them
        data, kind = body.data, body.data["type"]
        event_id = data.get("event_id", "?")
        if kind not in BOLT_ENVELOPES:
            return f"an Events API envelope of type {kind!r}"
        event = data.get("event")
        if kind == "event_callback" and event is None:
            return f"event_callback {event_id} without an event"
        if isinstance(event, Mapping) and event.get("type") not in self.events:
            return f"a {event.get('type')!r} event ({event_id})"
        return None


@dataclass(frozen=True)
class Body:
    data: dict[str, Any]
    events_api: bool  # a JSON envelope, not a slash command's or an interaction's form


def read_body(raw: bytes, content_type: str) -> Body:
    """The body as bolt will parse it (the same rules: JSON when declared so or when it starts
    with ``{``, form data otherwise), checked far enough for chathost to route it."""
    mime = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
        data = parse_body(text, mime or None)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedRequest(f"neither JSON nor form data ({exc})") from exc
    if not isinstance(data, dict):
        raise MalformedRequest(f"the body is a JSON {type(data).__name__}, not an object")
    events_api = mime == "application/json" or text.startswith("{")
    if events_api or "type" in data:
        _check_typed(data)
    return Body(data, events_api)


def _check_typed(data: Mapping[str, Any]) -> None:
    """Events API envelopes and interaction payloads say what they are in a string ``type``;
    an event_callback's event likewise."""
    if not isinstance(data.get("type"), str):
        raise MalformedRequest("no string 'type' field")
    event = data.get("event")
    if data["type"] != "event_callback" or event is None:
        return
    if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
        raise MalformedRequest(f"event {data.get('event_id', '?')} has no string 'type'")


def _bolt_request(request: web.Request, raw: bytes) -> AsyncBoltRequest:
    """Bolt's request, which reads the ids it routes by (channel, user, team, ...) from the
    body as it is built: a wrong-typed one fails here, before any listener, so the failure is
    the body's, never chathost's."""
    try:
        return AsyncBoltRequest(
            body=raw.decode("utf-8"),
            query=request.query_string,
            headers=dict(request.headers),
        )
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
        raise MalformedRequest(f"a field of the wrong type ({exc})") from exc
