"""A local fake of Slack's Web API and Socket Mode, served over real HTTP/WebSocket.

Why: the Slack adapter must be tested through the *real* slack_sdk / slack_bolt code (HTTP
verbs, encodings, retry handlers, socket-mode acks), so instead of mocking those libraries we
point them at this server::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        await client.chat_postMessage(channel="C0001", text="hi")
        assert fake.posted_messages("C0001")[0]["text"] == "hi"

Every request that reaches a method handler is recorded in ``fake.calls``; requests refused by
the rate limiter or by ``fail_next`` are recorded in ``fake.rejected`` instead, so "retried and
finally landed once" is ``len(fake.posted_messages()) == 1 and len(fake.rejected) == 1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import WSCloseCode, WSMsgType, web
from multidict import CIMultiDict

Json = dict[str, Any]
MethodHandler = Callable[[Json], Json]

# Form/query values that slack_sdk JSON-encodes into a string; decoded so tests see one shape
# whichever transport (JSON body, form body, query string) the SDK picked for a method.
_JSON_STRING_FIELDS = ("blocks", "attachments", "files", "metadata")

_ERROR_FOR_STATUS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


@dataclass
class Call:
    """One request to the fake (a Web API method, an upload, or a response_url POST)."""

    method: str
    args: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=CIMultiDict)
    http_method: str = "POST"
    status: int = 200
    response: Json | None = None
    # When the fake received it (time.monotonic()), so tests can check pacing between calls.
    at: float = field(default_factory=time.monotonic)

    @property
    def token(self) -> str | None:
        """The token the client used: ``Authorization: Bearer`` first, then a ``token`` arg."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :]
        token = self.args.get("token")
        return str(token) if token is not None else None


@dataclass
class _Bucket:
    """Token bucket for one (method, channel)."""

    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float | None:
        """Consume a token; return None if allowed, else seconds until one is available."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Failure:
    status: int
    retry_after: int
    times: int
    error: str


def _default_channels() -> dict[str, Json]:
    return {
        "C0001": {"name": "general", "num_members": 3, "members": ["U0001", "U0002", "UBOT"]},
        "C0002": {"name": "random", "num_members": 2, "members": ["U0001", "UBOT"]},
    }


def _default_users() -> dict[str, Json]:
    return {
        "U0001": {
            "name": "alice",
            "real_name": "Alice Example",
            "tz": "Europe/Berlin",
            "tz_offset": 3600,
        },
        "U0002": {
            "name": "bob",
            "real_name": "Bob Example",
            "tz": "America/New_York",
            "tz_offset": -18000,
        },
        "UBOT": {"name": "chathost", "real_name": "chathost", "is_bot": True, "tz_offset": 0},
    }


class FakeSlack:
    """Fake ``https://slack.com/api/`` + Socket Mode endpoint on ``127.0.0.1:<random port>``.

    Configure ``channels`` / ``users`` (plain dicts, edit freely), ``responses[method]`` (a dict
    or ``callable(args) -> dict``) to override or add any method, ``rate_limit`` and
    ``fail_next`` to exercise retry paths.
    """

    def __init__(
        self,
        *,
        team_id: str = "T0001",
        team: str = "Fake Team",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_id: str = "A0001",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.team_id = team_id
        # Message ts follow this clock, like Slack's (tests on a simulated clock pass theirs),
        # so ``oldest`` filters in history reads mean what they mean on Slack.
        self.now = now
        self.team = team
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.channels: dict[str, Json] = _default_channels()
        self.users: dict[str, Json] = _default_users()
        self.responses: dict[str, Json | MethodHandler] = {}

        self.calls: list[Call] = []
        self.rejected: list[Call] = []
        self.ratelimited_count = 0
        # channel id -> messages (dicts as returned in chat.postMessage's "message"), in order
        self.messages: dict[str, list[Json]] = {}
        self.files: dict[str, Json] = {}
        self.uploads: dict[str, bytes] = {}

        # Socket Mode state
        self.socket_connections = 0
        self.socket_envelopes: list[Json] = []
        self.socket_received: list[Json] = []
        self.socket_acks: dict[str, Json] = {}
        self.socket_pings: list[bytes] = []  # ping payloads the client sent (we echo them)
        self.socket_pongs: list[bytes] = []  # pong payloads the client answered ours with
        self._sockets: list[web.WebSocketResponse] = []

        self._limits: dict[str, tuple[float, int]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._lost: dict[tuple[str, str | None], int] = {}  # (method, channel or any)
        self._last_ts = 0  # microseconds; every ts is unique and later than the one before
        self._file_ids = itertools.count(1)
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, MethodHandler] = {
            "api.test": lambda args: {"ok": True, "args": args},
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``AsyncWebClient(base_url=...)``; the trailing slash matters."""
        return f"{self.base_url}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket"

    def response_url(self, name: str) -> str:
        """A URL to hand out as a slash command's/interaction's ``response_url``.

        POSTs to it are recorded as ``Call(method="response_url:<name>")``.
        """
        return f"{self.base_url}/response/{name}"

    async def start(self) -> None:
        """Listen on a free port, or after ``stop()`` on the same one again (an outage that
        ends: clients configured with ``api_url`` find the fake where it was, state kept)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test-facing helpers

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Args of landed chat.postMessage calls, in arrival order.

        ``channel`` matches the argument as sent or the resolved id (``U1`` -> ``DU1``).
        """
        return [
            c.args
            for c in self.calls_to("chat.postMessage")
            if channel is None
            or channel in (c.args.get("channel"), (c.response or {}).get("channel"))
        ]

    def rate_limit(
        self, method: str = "chat.postMessage", per_second: float = 1.0, burst: int = 1
    ) -> None:
        """Enforce ``per_second`` (token bucket of size ``burst``) per ``args["channel"]``."""
        self._limits[method] = (per_second, burst)
        for key in [k for k in self._buckets if k[0] == method]:
            del self._buckets[key]

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (queued, FIFO)."""
        err = error or _ERROR_FOR_STATUS.get(status, "fatal_error")
        self._failures.setdefault(method, []).append(_Failure(status, retry_after, times, err))

    def lose_next_answer(
        self, method: str = "chat.postMessage", times: int = 1, *, channel: str | None = None
    ) -> None:
        """Carry out the next ``times`` calls of ``method`` (to ``channel``, if given), then
        answer 500 (the client cannot tell that its message landed: a proxy timing out, a
        dropped connection)."""
        self._lost[(method, channel)] = self._lost.get((method, channel), 0) + times

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Await ``predicate()`` becoming true; re-checked whenever the fake's state changes."""
        try:
            async with asyncio.timeout(timeout):
                async with self._cond:
                    await self._cond.wait_for(predicate)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(
                f"FakeSlack: timed out after {timeout}s waiting for {what}; calls: {seen}"
            ) from None

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Await until ``count`` calls of ``method`` landed; returns those calls."""
        await self.wait_until(
            lambda: len(self.calls_to(method)) >= count, timeout, f"{count} x {method}"
        )
        return self.calls_to(method)

    # ------------------------------------------------------------------ socket mode helpers

    async def wait_socket_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Await until ``count`` websocket connections were made in total (and one is open)."""
        await self.wait_until(
            lambda: self.socket_connections >= count and bool(self._sockets),
            timeout,
            f"{count} socket connection(s)",
        )

    async def push_socket_event(
        self,
        payload_type: str,
        payload: Json,
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope over the newest open socket; returns its ``envelope_id``.

        ``payload_type`` is "events_api" (payload: an event_callback envelope),
        "slash_commands" (payload: the command fields) or "interactive".
        """
        await self.wait_socket_connected(timeout=timeout)
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = payload_type != "events_api"
        envelope: Json = {
            "envelope_id": envelope_id,
            "type": payload_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if payload_type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self.socket_envelopes.append(envelope)
        await self._sockets[-1].send_str(json.dumps(envelope))
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Json:
        """The ack (``{"envelope_id", "payload"?}``) the client sent back for an envelope."""
        await self.wait_until(
            lambda: envelope_id in self.socket_acks, timeout, f"ack of {envelope_id}"
        )
        return self.socket_acks[envelope_id]

    async def push_socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does periodically (it calls
        apps.connections.open again and opens a new socket)."""
        await self.wait_socket_connected()
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        await self._sockets[-1].send_str(json.dumps(message))

    async def ping_socket(self, data: bytes = b"fake-slack-ping", timeout: float = 5.0) -> None:
        """Ping the client as Slack does and await its pong (the SDK answers by hand)."""
        await self.wait_socket_connected(timeout=timeout)
        await self._sockets[-1].ping(data)
        await self.wait_until(lambda: data in self.socket_pongs, timeout, "pong")

    async def drop_sockets(self) -> None:
        """Close all sockets abruptly from the server side (network blip / Slack restart)."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _record(self, call: Call, rejected: bool = False) -> None:
        (self.rejected if rejected else self.calls).append(call)
        await self._notify()

    @staticmethod
    async def _read_args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if isinstance(body, dict):
                        args.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        args[key] = {"filename": value.filename, "content": value.file.read()}
                    else:
                        args[key] = value
        for key in _JSON_STRING_FIELDS:
            value = args.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)
        return args

    @staticmethod
    def _json(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    def _check_limits(self, method: str, args: dict[str, Any]) -> tuple[int, str, int] | None:
        """(status, error, retry_after) if this call must be refused, else None."""
        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure.status, failure.error, failure.retry_after
        limit = self._limits.get(method)
        if limit is not None:
            rate, burst = limit
            key = (method, str(args.get("channel") or args.get("channel_id") or ""))
            now = time.monotonic()
            bucket = self._buckets.setdefault(key, _Bucket(rate, burst, float(burst), now))
            wait = bucket.take(now)
            if wait is not None:
                return 429, "ratelimited", max(1, math.ceil(wait))
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        call = Call(method, args, CIMultiDict(request.headers), request.method)

        refused = self._check_limits(method, args)
        if refused is not None:
            status, error, retry_after = refused
            call.status = status
            call.response = {"ok": False, "error": error}
            headers = {"Retry-After": str(retry_after)} if status == 429 else None
            if status == 429:
                self.ratelimited_count += 1
            await self._record(call, rejected=True)
            return self._json(call.response, status=status, headers=headers)

        call.response = self._dispatch(method, call)
        await self._record(call)
        for lost in ((method, str(args.get("channel", ""))), (method, None)):
            if self._lost.get(lost):
                self._lost[lost] -= 1
                return self._json({"ok": False, "error": "internal_error"}, status=500)
        return self._json(call.response)

    def _dispatch(self, method: str, call: Call) -> Json:
        override = self.responses.get(method)
        handler = self._methods.get(method)
        if override is None and handler is None:
            return {"ok": False, "error": "unknown_method"}
        token = call.token
        if not token and method != "api.test":
            return {"ok": False, "error": "not_authed"}
        # Slack refuses app-level tokens (xapp-) everywhere but apps.connections.open, and bot
        # tokens there; this catches handing the wrong token to the wrong client.
        is_app_token = bool(token and token.startswith("xapp-"))
        if token and (method == "apps.connections.open") != is_app_token:
            return {"ok": False, "error": "not_allowed_token_type"}
        try:
            if override is not None:
                return override(call.args) if callable(override) else dict(override)
            assert handler is not None
            return handler(call.args)
        except Exception as exc:  # a test sent args the fake cannot digest: say so, don't 500
            return {"ok": False, "error": "invalid_arguments", "fake_exception": repr(exc)}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """The ``upload_url`` of files.getUploadURLExternal (raw bytes POST, plain-text reply)."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        call = Call(
            "upload", {"file_id": file_id, "length": len(data)}, CIMultiDict(request.headers)
        )
        if file_id not in self.files:
            call.status = 404
            await self._record(call)
            return web.Response(status=404, text="file not found")
        self.uploads[file_id] = data
        await self._record(call)
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        args = await self._read_args(request)
        name = request.match_info["name"]
        await self._record(Call(f"response_url:{name}", args, CIMultiDict(request.headers)))
        return web.Response(text="ok", content_type="text/plain")

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        # Pings are answered by hand (not autoping) so tests can see them: SocketModeClient
        # sends "sdk-ping-pong:<time>" pings and declares the session stale without echoes.
        ws = web.WebSocketResponse(autoping=False, timeout=1.0)
        await ws.prepare(request)
        self.socket_connections += 1
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets) + 1,
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        await ws.send_str(json.dumps(hello))
        self._sockets.append(ws)
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                    self.socket_pings.append(bytes(msg.data))
                    await self._notify()
                    continue
                if msg.type == WSMsgType.PONG:
                    self.socket_pongs.append(bytes(msg.data))
                    await self._notify()
                    continue
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = {"raw": msg.data}
                self.socket_received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.socket_acks[str(data["envelope_id"])] = data
                await self._notify()
        finally:
            self._sockets.remove(ws)
            await self._notify()
        return ws

    # ------------------------------------------------------------------ method handlers

    def _next_ts(self) -> str:
        value = max(int(self.now() * 1_000_000), self._last_ts + 100)
        self._last_ts = value
        return f"{value // 1_000_000}.{value % 1_000_000:06d}"

    def _resolve_channel(self, channel: str) -> str:
        """``#name`` -> id, user id -> DM id (chat.postMessage accepts both, like Slack)."""
        if channel.startswith("#"):
            for cid, info in self.channels.items():
                if info.get("name") == channel[1:]:
                    return cid
        if channel[:1] in ("U", "W"):
            return f"D{channel}"
        return channel

    def _find_message(self, channel: str, ts: str) -> Json | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    def _auth_test(self, args: Json) -> Json:
        return {
            "ok": True,
            "url": f"https://{self.team.lower().replace(' ', '')}.slack.com/",
            "team": self.team,
            "user": self.users.get(self.bot_user_id, {}).get("name", "bot"),
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: Json) -> Json:
        return {"ok": True, "url": f"{self.socket_url}?ticket={uuid.uuid4()}&app_id={self.app_id}"}

    def _chat_post_message(self, args: Json) -> Json:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        channel = self._resolve_channel(str(args["channel"]))
        ts = self._next_ts()
        message: Json = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": args.get("text", ""),
            "ts": ts,
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                message[key] = args[key]
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _chat_update(self, args: Json) -> Json:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        message = self._find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _chat_delete(self, args: Json) -> Json:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        message = self._find_message(channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, args: Json) -> Json:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_get_permalink(self, args: Json) -> Json:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        if self._find_message(channel, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        url = self._auth_test(args)["url"]
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"{url}archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, args: Json) -> Json:
        users = args.get("users", "")
        ids = users if isinstance(users, list) else [u for u in str(users).split(",") if u]
        if not ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = f"D{ids[0]}" if len(ids) == 1 else "G" + "".join(sorted(ids))
        return {"ok": True, "channel": {"id": channel_id}}

    def _conversations_info(self, args: Json) -> Json:
        channel = str(args.get("channel", ""))
        if channel.startswith("D"):
            return {
                "ok": True,
                "channel": {"id": channel, "is_im": True, "user": channel[1:], "is_open": True},
            }
        info = self.channels.get(channel)
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        members = info.get("members", [])
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": info.get("name", channel.lower()),
                "is_channel": not info.get("is_private", False),
                "is_private": info.get("is_private", False),
                "is_im": False,
                "is_member": self.bot_user_id in members or info.get("is_member", True),
                "is_archived": info.get("is_archived", False),
                "created": 1_600_000_000,
                "topic": {"value": info.get("topic", ""), "creator": "", "last_set": 0},
                "purpose": {"value": info.get("purpose", ""), "creator": "", "last_set": 0},
            }
            | (  # like Slack: the count only when asked for
                {"num_members": info.get("num_members", len(members))}
                if str(args.get("include_num_members", "")).lower() in ("1", "true")
                else {}
            ),
        }

    def _conversations_list(self, args: Json) -> Json:
        """Every configured channel on one page (no cursor needed for the fake's few)."""
        channels = [
            {
                "id": cid,
                "name": info.get("name", cid.lower()),
                "is_channel": not info.get("is_private", False),
                "is_private": info.get("is_private", False),
                "is_archived": info.get("is_archived", False),
                "is_member": self.bot_user_id in info.get("members", []),
            }
            for cid, info in self.channels.items()
        ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_members(self, args: Json) -> Json:
        info = self.channels.get(str(args.get("channel", "")))
        if info is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "members": list(info.get("members", [])),
            "response_metadata": {"next_cursor": ""},
        }

    @staticmethod
    def _as_read(messages: list[Json], args: Json) -> list[Json]:
        """Like Slack: only messages after ``oldest``; metadata only when asked for."""
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        return [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in messages
            if float(m["ts"]) > oldest
        ]

    def _conversations_history(self, args: Json) -> Json:
        channel = self._resolve_channel(str(args.get("channel", "")))
        messages = [
            m for m in self.messages.get(channel, []) if m.get("thread_ts") in (None, m["ts"])
        ]
        return {
            "ok": True,
            "messages": self._as_read(list(reversed(messages)), args),  # newest first
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: Json) -> Json:
        channel = self._resolve_channel(str(args.get("channel", "")))
        ts = str(args.get("ts", ""))
        # Like Slack, the ts of a reply stands for its whole thread.
        given = self._find_message(channel, ts) or {}
        ts = str(given.get("thread_ts") or ts)
        thread = [
            m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": self._as_read(thread, args), "has_more": False}

    def _users_info(self, args: Json) -> Json:
        user_id = str(args.get("user", ""))
        info = self.users.get(user_id)
        if info is None:
            return {"ok": False, "error": "user_not_found"}
        real_name = info.get("real_name", info.get("name", user_id))
        return {
            "ok": True,
            "user": {
                "id": user_id,
                "team_id": self.team_id,
                "name": info.get("name", user_id.lower()),
                "real_name": real_name,
                "deleted": info.get("deleted", False),
                "is_bot": info.get("is_bot", False),
                "tz": info.get("tz", "Etc/UTC"),
                "tz_label": info.get("tz_label", info.get("tz", "UTC")),
                "tz_offset": info.get("tz_offset", 0),
                "profile": {
                    "real_name": real_name,
                    "display_name": info.get("display_name", info.get("name", "")),
                },
            },
        }

    def _users_list(self, args: Json) -> Json:
        """Every configured user on one page, shaped as users.info shapes one."""
        members = [self._users_info({"user": uid})["user"] for uid in self.users]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}

    def _reactions_add(self, args: Json) -> Json:
        message = self._find_message(str(args.get("channel", "")), str(args.get("timestamp", "")))
        name = str(args.get("name", ""))
        if message is None:
            # Messages not posted through the fake (e.g. user messages in events) are fine.
            return {"ok": True}
        reactions: list[Json] = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if self.bot_user_id in reaction["users"]:
                    return {"ok": False, "error": "already_reacted"}
                reaction["users"].append(self.bot_user_id)
                reaction["count"] += 1
                return {"ok": True}
        reactions.append({"name": name, "users": [self.bot_user_id], "count": 1})
        return {"ok": True}

    def _reactions_remove(self, args: Json) -> Json:
        message = self._find_message(str(args.get("channel", "")), str(args.get("timestamp", "")))
        if message is None:
            return {"ok": True}
        for reaction in message.get("reactions", []):
            if reaction["name"] == args.get("name") and self.bot_user_id in reaction["users"]:
                reaction["users"].remove(self.bot_user_id)
                reaction["count"] -= 1
                return {"ok": True}
        return {"ok": False, "error": "no_reaction"}

    def _files_get_upload_url(self, args: Json) -> Json:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):07d}"
        self.files[file_id] = {
            "id": file_id,
            "name": args["filename"],
            "title": args["filename"],
            "size": int(args["length"]),
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: Json) -> Json:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        result = []
        for entry in entries:
            file_id = str(entry.get("id", ""))
            info = self.files.get(file_id)
            if info is None or file_id not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            if entry.get("title"):
                info["title"] = entry["title"]
            channels = [c for c in str(args.get("channels") or "").split(",") if c]
            if args.get("channel_id"):
                channels.append(str(args["channel_id"]))
            info["channels"] = channels
            info["thread_ts"] = args.get("thread_ts")  # shared into that thread
            for channel in channels:
                self._share(channel, info)
            result.append(dict(info))
        return {"ok": True, "files": result}

    def _share(self, channel: str, info: Json) -> None:
        """Slack shows a shared file as a message from the uploader, in the thread it went to;
        the message carries the file, not the poster's metadata."""
        message: Json = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "text": "",
            "ts": self._next_ts(),
            "upload": True,
            "files": [{"id": info["id"], "name": info["name"], "title": info["title"]}],
        }
        if info.get("thread_ts"):
            message["thread_ts"] = info["thread_ts"]
        info["share_ts"] = message["ts"]
        self.messages.setdefault(self._resolve_channel(channel), []).append(message)

    def _files_delete(self, args: Json) -> Json:
        """Deleting a file takes its share messages away too."""
        file_id = str(args.get("file", ""))
        if self.files.pop(file_id, None) is None:
            return {"ok": False, "error": "file_not_found"}
        self.uploads.pop(file_id, None)
        for channel, messages in self.messages.items():
            self.messages[channel] = [
                m for m in messages if all(f.get("id") != file_id for f in m.get("files") or [])
            ]
        return {"ok": True}

    def _files_info(self, args: Json) -> Json:
        info = self.files.get(str(args.get("file", "")))
        if info is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": dict(info)}
