"""A local fake of Telegram's Bot API, served over real HTTP, for the Telegram adapter's tests.

Why: the adapter must be tested through the *real* python-telegram-bot (its form and multipart
encodings, its long polling, the way it turns 429/403/400/409/502 into exceptions), so instead
of mocking the library we point it at this server::

    async with FakeTelegram() as fake:
        fake.add_group(-1001234567890)
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        await bot.send_message(-1001234567890, "hi")
        assert fake.sent(-1001234567890)[0].text == "hi"

What Telegram would refuse lives in ``telegram_state``; this module is the wire: parsing the
three body encodings, ``{"ok": ...}`` answers, getUpdates long polling, webhook delivery,
and the faults a test asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from tests.fakes.telegram_state import (
    Call,
    Json,
    RateLimits,
    SentMessage,
    TelegramError,
    TelegramState,
)

__all__ = ["Call", "FakeTelegram", "SentMessage"]

TOKEN = "123456:TEST-TOKEN"
BOT_USER: Json = {"id": 123456, "is_bot": True, "first_name": "Tea", "username": "TeaBot"}
# Update kinds Telegram leaves out unless allowed_updates names them.
_OPT_IN = {"chat_member", "message_reaction", "message_reaction_count"}
_DEFAULT_DESCRIPTION = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_SENDS = {"sendMessage", "sendPhoto"}
# Form and query values arrive as strings; these are numbers on Telegram's side, so tests
# (and the handlers) see ints whichever encoding PTB picked.
_INTS = {
    "chat_id",
    "message_id",
    "user_id",
    "offset",
    "limit",
    "timeout",
    "message_thread_id",
    "reply_to_message_id",
    "max_connections",
}


@dataclass
class _Failure:
    status: int
    retry_after: int
    description: str | None


class FakeTelegram:
    """Fake ``https://api.telegram.org`` on ``127.0.0.1:<random port>``; see the module doc."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        enforce_limits: bool = True,
    ) -> None:
        self.token = token
        self.bot_user: Json = dict(BOT_USER, id=int(token.split(":")[0]))
        self.clock = clock
        self.state = TelegramState(self.bot_user, now)
        self.limits = RateLimits(clock) if enforce_limits else None
        self.port = 0
        self.webhook: Json = {}
        self._updates: list[Json] = []
        self._next_update = 1
        self._allowed: list[str] = []
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._lose: dict[str, int] = {}
        self._down = False
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[Json, dict[str, bytes]], Awaitable[Any]]] = {}
        sync: dict[str, Callable[[Json], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self.state.send_message,
            "editMessageText": self.state.edit_message_text,
            "deleteMessage": self.state.delete_message,
            "createForumTopic": self.state.create_forum_topic,
            "setMyCommands": self.state.set_my_commands,
            "getMyCommands": lambda p: self.state.commands.get(self.state.scope_key(p), []),
            "deleteMyCommands": lambda p: (
                self.state.commands.pop(self.state.scope_key(p), None) is None or True
            ),
            "getChat": lambda p: self.state.full_chat(int(p["chat_id"])),
            "getChatMember": lambda p: self.state.chat_member(int(p["chat_id"]), int(p["user_id"])),
            "getChatAdministrators": self._get_admins,
            "getChatMemberCount": lambda p: (
                self._group(p) and self.state.members[int(p["chat_id"])]
            ),
            "getWebhookInfo": self._webhook_info,
        }
        for name, handler in sync.items():
            self._methods[name] = lambda p, _r, h=handler: self._sync(h, p)
        self._methods |= {
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "sendPhoto": self._send_photo,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(base_url=...)``: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ the world

    @property
    def now(self) -> Callable[[], float]:
        """The wall clock messages are dated by; a test on a simulated clock sets its own."""
        return self.state.now

    @now.setter
    def now(self, now: Callable[[], float]) -> None:
        self.state.now = now

    @property
    def users(self) -> dict[int, Json]:
        return self.state.users

    def add_group(
        self,
        chat_id: int = -1001234567890,
        title: str = "Tea chat",
        *,
        username: str | None = None,
        is_forum: bool = False,
        members: int = 42,
    ) -> Json:
        return self.state.add_group(chat_id, title, username, is_forum, members)

    def add_user(
        self,
        user_id: int,
        username: str | None,
        first_name: str,
        *,
        started_bot: bool = False,
        is_bot: bool = False,
        admin_of: tuple[int, ...] = (),
    ) -> Json:
        return self.state.add_user(
            user_id, username, first_name, started_bot=started_bot, is_bot=is_bot, admin_of=admin_of
        )

    def set_privacy(self, enabled: bool) -> None:
        self.state.privacy = enabled

    # ------------------------------------------------------------------ inbound

    @property
    def next_update_id(self) -> int:
        return self._next_update

    def make_message(self, chat_id: int, sender: int | Json, text: str, **extra: Any) -> Json:
        """A message from ``sender`` (a user id, or a User dict such as ``fake.users[id]``)
        stored in the chat but not yet delivered, for a test that builds an unusual one and
        pushes it with ``push_raw_update``."""
        if chat_id > 0:
            self.state.started.add(chat_id)  # writing to the bot is pressing Start
        user = self.state.user(sender) if isinstance(sender, int) else sender
        return self.state.message(chat_id, user, text, **extra)

    def _queue(self, kind: str, payload: Json) -> Json:
        self.push_raw_update({"update_id": self._next_update, kind: payload})
        return payload

    def user_says(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> Json:
        extra = self.state.thread_extra(chat_id, thread_id, reply_to)
        return self._queue("message", self.make_message(chat_id, user_id, text, **extra))

    def user_sends_command(self, chat_id: int, user_id: int, text: str) -> Json:
        entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        return self._queue("message", self.make_message(chat_id, user_id, text, entities=[entity]))

    def user_edits(self, chat_id: int, message_id: int, text: str) -> Json:
        msg = self.state.messages[(chat_id, message_id)]
        msg.update(text=text, edit_date=int(self.state.now()))
        return self._queue("edited_message", dict(msg))

    def user_reacts(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        new: list[str],
        old: list[str] | None = None,
    ) -> Json:
        change = {
            "chat": self.state.chat(chat_id),
            "message_id": message_id,
            "user": self.state.user(user_id),
            "date": int(self.state.now()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old or []],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        }
        return self._queue("message_reaction", change)

    def push_raw_update(self, update: Json) -> None:
        """Queue ``update`` as is (a repeat, a malformed one); later ids continue after it."""
        if isinstance(update.get("update_id"), int):
            self._next_update = max(self._next_update, update["update_id"] + 1)
        self._updates.append(update)
        self._notify()

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._cond:
                self._cond.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(wake())

    # ------------------------------------------------------------------ outbound record

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        return [m for m in self.state.sent_messages if chat_id is None or m.chat_id == chat_id]

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    def my_commands(self, scope_type: str, chat_id: int | None = None) -> list[str]:
        """Command names set for the scope (``"default"``, ``"all_group_chats"``,
        ``"chat_administrators"`` with ``chat_id``...), any language."""
        key = (scope_type, chat_id, None, "")
        return [c["command"] for c in self.state.commands.get(key, [])]

    def topics(self, chat_id: int) -> dict[int, str]:
        return dict(self.state.forum_topics.get(chat_id, {}))

    def pending_updates(self) -> list[Json]:
        return list(self._updates)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (without doing them)."""
        self._failures.setdefault(method, []).extend(
            [_Failure(status, retry_after, description)] * times
        )

    def lose_answer_of_next(self, method: str) -> None:
        """Do the next ``method`` call, then drop the connection: it happened, the bot can't tell."""
        self._lose[method] = self._lose.get(method, 0) + 1

    def down(self) -> None:
        self._down = True

    def up(self) -> None:
        self._down = False

    def _injected(self, method: str) -> TelegramError | None:
        if self._down:
            return TelegramError(502, "Bad Gateway")
        queue = self._failures.get(method)
        if not queue:
            return None
        f = queue.pop(0)
        if f.status == 429:
            text = f.description or f"Too Many Requests: retry after {f.retry_after}"
            return TelegramError(429, text, f.retry_after)
        return TelegramError(f.status, f.description or _DEFAULT_DESCRIPTION.get(f.status, "Error"))

    # ------------------------------------------------------------------ the wire

    async def _params(self, request: web.Request) -> tuple[Json, dict[str, bytes]]:
        """One dict whatever PTB chose: query, JSON, form or multipart (whose parts may be
        JSON-encoded strings, like ``reply_parameters``, or files)."""
        params: Json = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params |= await request.json()
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    files[part.name] = bytes(await part.read())
                else:
                    params[part.name] = await part.text()
        elif request.can_read_body:
            params |= dict(await request.post())
        for key, value in params.items():
            if key in _INTS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    params[key] = int(value)
            elif isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params | {k: "<file>" for k in files}, self.clock())
        self._calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            handler = next(
                (h for name, h in self._methods.items() if name.lower() == method.lower()), None
            )
            if handler is None:
                raise TelegramError(404, "Not Found")
            if (injected := self._injected(method)) is not None:
                raise injected
            if str(params.get("chat_id", "")).startswith("@"):  # a public group's @username
                params["chat_id"] = self.state.chat_by_username(params["chat_id"])
            if self.limits is not None and method in _SENDS and "chat_id" in params:
                self.state.can_send(int(params["chat_id"]))
                self.limits.take(int(params["chat_id"]))
            result = await handler(params, files)
        except TelegramError as e:
            call.status = e.status
            return web.json_response(e.body(), status=e.status)
        except (KeyError, ValueError, TypeError) as e:
            call.status = 400
            return web.json_response(TelegramError(400, f"Bad Request: {e}").body(), status=400)
        self._notify()
        if self._lose.get(method):
            self._lose[method] -= 1
            call.status = 0
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=200)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _sync(handler: Callable[[Json], Any], params: Json) -> Any:
        return handler(params)

    def _group(self, p: Json) -> bool:
        self.state.chat(int(p["chat_id"]))
        return True

    # ------------------------------------------------------------------ methods

    def _get_me(self, _p: Json) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.state.privacy,
            "supports_inline_queries": False,
        }

    def _get_admins(self, p: Json) -> list[Json]:
        chat_id = int(p["chat_id"])
        if chat_id not in self.state.groups:
            raise TelegramError(400, "Bad Request: there are no administrators in the private chat")
        return [
            self.state.chat_member(chat_id, u) for u in sorted(self.state.admins.get(chat_id, ()))
        ]

    async def _send_photo(self, p: Json, files: dict[str, bytes]) -> Json:
        return self.state.send_photo(p, files.get("photo"))

    def _deliverable(self, update: Json, allowed: list[str]) -> bool:
        kinds = set(update) - {"update_id"}
        return not kinds or any((k in allowed) if allowed else (k not in _OPT_IN) for k in kinds)

    async def _get_updates(self, p: Json, _files: dict[str, bytes]) -> list[Json]:
        if self.webhook.get("url"):
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in p:
            self._allowed = list(p["allowed_updates"] or [])
        offset, limit = int(p.get("offset", 0)), min(int(p.get("limit", 100)), 100)
        if offset:  # confirms every update before it, delivered or not
            self._updates = [
                u
                for u in self._updates
                if not isinstance(u.get("update_id"), int) or u["update_id"] >= offset
            ]

        def ready() -> list[Json]:
            return [u for u in self._updates if self._deliverable(u, self._allowed)][:limit]

        if not ready() and float(p.get("timeout", 0)) > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(float(p["timeout"])), self._cond:
                    await self._cond.wait_for(
                        lambda: bool(ready()) or bool(self.webhook.get("url"))
                    )
        return ready()

    async def _set_webhook(self, p: Json, _files: dict[str, bytes]) -> bool:
        url = str(p.get("url", ""))
        if not url:
            return await self._delete_webhook(p, _files)
        if not url.startswith(("http://", "https://")):
            raise TelegramError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if p.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        if "allowed_updates" in p:
            self._allowed = list(p["allowed_updates"] or [])
        self.webhook = {"url": url, "secret_token": p.get("secret_token"), "last_error": None}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_loop())
        return True

    async def _delete_webhook(self, p: Json, _files: dict[str, bytes]) -> bool:
        if p.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        self.webhook = {}
        return True

    def _webhook_info(self, _p: Json) -> Json:
        pending = sum(self._deliverable(u, self._allowed) for u in self._updates)
        info: Json = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.webhook.get("last_error"):
            info |= {
                "last_error_date": int(self.state.now()),
                "last_error_message": self.webhook["last_error"],
            }
        if self._allowed:
            info["allowed_updates"] = self._allowed
        return info

    async def _push_loop(self) -> None:
        """Like Telegram: POST the oldest pending update until the receiver says 2xx, one at
        a time, in order; a failure is kept as last_error and retried."""
        async with aiohttp.ClientSession() as session:
            while self.webhook.get("url"):
                async with self._cond:
                    await self._cond.wait_for(
                        lambda: (
                            not self.webhook.get("url")
                            or any(self._deliverable(u, self._allowed) for u in self._updates)
                        )
                    )
                if not self.webhook.get("url"):
                    return
                update = next(u for u in self._updates if self._deliverable(u, self._allowed))
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
                try:
                    async with session.post(self.webhook["url"], json=update, headers=headers) as r:
                        ok = 200 <= r.status < 300
                        self.webhook["last_error"] = (
                            None
                            if ok
                            else f"Wrong response from the webhook: {r.status} {r.reason}"
                        )
                except aiohttp.ClientError as e:
                    ok, self.webhook["last_error"] = False, f"Connection failed: {e}"
                if ok:
                    self._updates.remove(update)
                else:
                    await asyncio.sleep(0.05)
