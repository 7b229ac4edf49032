"""A stopgap Bot API server for the adapter's own tests, until tests/fakes/telegram_api.py
(written in parallel to the shared contract) lands: the few methods these tests need, over
HTTP as Telegram speaks them, so python-telegram-bot runs against it unchanged. Tests written
against it use only the contract's names (``user_says``, ``sent``, ``fail_next``...), so they
move to the shared fake by changing one import."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-TOKEN"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Tea", "username": "TeaBot"}


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_to: int | None
    thread_id: int | None
    method: str
    photo: bytes | None = None
    deleted: bool = False
    edits: list[str] = field(default_factory=list)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    time: float


class MiniTelegram:
    def __init__(self) -> None:
        self.token = TOKEN
        self.bot_user = dict(BOT_USER)
        self.privacy = False
        self.groups: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.started: set[int] = set()
        self.admins: dict[int, set[int]] = {}
        self.members: dict[int, int] = {}
        self._sent: list[SentMessage] = []
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_id: dict[int, int] = {}
        self._faults: dict[str, list[tuple[int, int]]] = {}
        self._news = asyncio.Event()
        self.now = time.time  # the date messages carry; worlds pass their simulated clock
        self._topics: dict[int, dict[int, str]] = {}
        self.commands: dict[tuple[str, int | None], list[dict[str, Any]]] = {}

    async def __aenter__(self) -> MiniTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.file_url = f"http://127.0.0.1:{self.port}/file/bot"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()

    # control

    def add_group(
        self,
        chat_id: int = -1001234567890,
        title: str = "Tea chat",
        *,
        is_forum: bool = False,
        members: int = 42,
    ) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        if is_forum:
            chat["is_forum"] = True
        self.groups[chat_id] = chat
        self.members[chat_id] = members
        return chat

    def add_user(
        self,
        user_id: int,
        username: str | None,
        first_name: str,
        *,
        started_bot: bool = False,
        admin_of: tuple[int, ...] = (),
    ) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        if started_bot:
            self.started.add(user_id)
        for chat_id in admin_of:
            self.admins.setdefault(chat_id, set()).add(user_id)
        return user

    def set_privacy(self, enabled: bool) -> None:
        self.privacy = enabled

    def _message(self, chat_id: int, sender: dict[str, Any], text: str, **more: Any) -> dict:
        message_id = self._next_id[chat_id] = self._next_id.get(chat_id, 0) + 1
        chat = self.groups.get(chat_id) or {"id": chat_id, "type": "private"}
        return {
            "message_id": message_id,
            "date": int(self.now()),
            "chat": chat,
            "from": sender,
            "text": text,
            **more,
        }

    def user_says(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if thread_id is not None:
            extra["message_thread_id"] = thread_id
            extra["is_topic_message"] = True
        if reply_to is not None:
            extra["reply_to_message"] = {
                "message_id": reply_to,
                "date": 0,
                "chat": self.groups[chat_id],
                "text": "",
            }
        message = self._message(chat_id, self.users[user_id], text, **extra)
        self.push_raw_update({"update_id": self._next_update, "message": message})
        return message

    def user_sends_command(self, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
        word = text.split()[0]
        entity = {"type": "bot_command", "offset": 0, "length": len(word)}
        message = self._message(chat_id, self.users[user_id], text, entities=[entity])
        self.push_raw_update({"update_id": self._next_update, "message": message})
        return message

    def user_edits(self, chat_id: int, message: dict[str, Any], text: str) -> dict[str, Any]:
        edited = {**message, "text": text, "edit_date": int(self.now())}
        self.push_raw_update({"update_id": self._next_update, "edited_message": edited})
        return edited

    def user_reacts(
        self, chat_id: int, message_id: int, user_id: int, new: list[str], old: list[str]
    ) -> dict[str, Any]:
        change = {
            "chat": self.groups[chat_id],
            "message_id": message_id,
            "user": self.users[user_id],
            "date": int(self.now()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        }
        self.push_raw_update({"update_id": self._next_update, "message_reaction": change})
        return change

    def topics(self, chat_id: int) -> dict[int, str]:
        return dict(self._topics.get(chat_id, {}))

    def push_raw_update(self, update: dict[str, Any]) -> None:
        if isinstance(update.get("update_id"), int):
            self._next_update = max(self._next_update, update["update_id"] + 1)
        self._updates.append(update)
        self._news.set()

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int = 1, times: int = 1
    ) -> None:
        self._faults.setdefault(method, []).extend([(status, retry_after)] * times)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    def my_commands(self, scope_type: str, chat_id: int | None = None) -> list[str]:
        return [c["command"] for c in self.commands.get((scope_type, chat_id), [])]

    # the wire

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if hasattr(value, "file"):
                params[key] = value.file.read()
            else:
                try:
                    params[key] = json.loads(str(value))
                except ValueError:
                    params[key] = str(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        self._calls.append(Call(method, params, time.monotonic()))
        faults = self._faults.get(method)
        if faults:
            status, retry = faults.pop(0)
            return self._error(status, "Too Many Requests: retry after", retry)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    def _error(self, status: int, description: str, retry: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if status == 429:
            body["parameters"] = {"retry_after": retry or 1}
        return web.json_response(body, status=status)

    async def _m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "supports_inline_queries": False,
            "can_read_all_group_messages": not self.privacy,
        }

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        self._updates = [u for u in self._updates if u.get("update_id", 0) >= offset]
        if not self._updates:
            self._news.clear()
            try:
                await asyncio.wait_for(self._news.wait(), float(p.get("timeout") or 0))
            except TimeoutError:
                return []
        return list(self._updates)

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        return True

    async def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        scope = p.get("scope") or {"type": "default"}
        self.commands[(scope["type"], scope.get("chat_id"))] = p["commands"]
        return True

    async def _m_getChat(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat = self.groups.get(int(p["chat_id"]))
        if chat is None:
            return self._error(400, "Bad Request: chat not found")
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    async def _m_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = int(p["user_id"])
        admin = user_id in self.admins.get(int(p["chat_id"]), set())
        user = self.users.get(user_id, self.bot_user)
        if admin:
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
        return {"status": "member", "user": user}

    async def _m_getChatAdministrators(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        ids = self.admins.get(int(p["chat_id"]), set())
        return [{"status": "administrator", "user": self.users[i], **_ADMIN_RIGHTS} for i in ids]

    async def _m_getChatMemberCount(self, p: dict[str, Any]) -> int:
        return self.members[int(p["chat_id"])]

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat_id = int(p["chat_id"])
        if chat_id > 0 and chat_id not in self.started:
            return self._error(403, "Forbidden: bot can't initiate conversation with a user")
        if len(p["text"]) > 4096:
            return self._error(400, "Bad Request: message is too long")
        reply = (p.get("reply_parameters") or {}).get("message_id")
        message = self._message(chat_id, self.bot_user, p["text"])
        self._sent.append(
            SentMessage(
                chat_id,
                message["message_id"],
                p["text"],
                p.get("parse_mode"),
                reply,
                p.get("message_thread_id"),
                "sendMessage",
            )
        )
        return message

    async def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        for m in self._sent:
            if (m.chat_id, m.message_id) == (chat_id, message_id) and not m.deleted:
                m.edits.append(m.text)
                m.text = p["text"]
                return {**self._message(chat_id, self.bot_user, m.text), "message_id": message_id}
        return self._error(400, "Bad Request: message to edit not found")

    async def _m_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        reply = (p.get("reply_parameters") or {}).get("message_id")
        message = self._message(chat_id, self.bot_user, "")
        self._sent.append(
            SentMessage(
                chat_id,
                message["message_id"],
                p.get("caption") or "",
                p.get("parse_mode"),
                reply,
                p.get("message_thread_id"),
                "sendPhoto",
                photo=p["photo"],
            )
        )
        return {
            **message,
            "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}],
        }

    async def _m_createForumTopic(self, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat_id = int(p["chat_id"])
        if not self.groups.get(chat_id, {}).get("is_forum"):
            return self._error(400, "Bad Request: the chat is not a forum")
        root = self._message(chat_id, self.bot_user, "")  # the topic's service message
        self._topics.setdefault(chat_id, {})[root["message_id"]] = p["name"]
        return {"message_thread_id": root["message_id"], "name": p["name"], "icon_color": 0}

    async def _m_deleteMessage(self, p: dict[str, Any]) -> bool:
        for m in self._sent:
            if (m.chat_id, m.message_id) == (int(p["chat_id"]), int(p["message_id"])):
                m.deleted = True
        return True


_ADMIN_RIGHTS = {
    key: True
    for key in (
        "can_be_edited",
        "is_anonymous",
        "can_manage_chat",
        "can_delete_messages",
        "can_manage_video_chats",
        "can_restrict_members",
        "can_promote_members",
        "can_change_info",
        "can_invite_users",
        "can_post_stories",
        "can_edit_stories",
        "can_delete_stories",
    )
}
