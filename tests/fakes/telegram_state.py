"""What the fake Telegram knows (chats, users, messages, commands) and the rules Telegram
applies to a bot's sends, with no HTTP in sight.

Why a module of its own: the checks that make Telegram refuse a send (HTML it cannot parse,
a text too long once the tags are gone, a DM to someone who never pressed Start, a topic in a
group that is no forum, 20 a minute per group) are what the adapter's tests are about, so they
read best apart from the wire plumbing in ``telegram_api.py``.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
# Tags Telegram's HTML parse mode understands (https://core.telegram.org/bots/api#html-style).
_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|<|&(#?\w+);|&")
_ENTITIES = {"lt", "gt", "amp", "quot"}


class TelegramError(Exception):
    """A refusal as Telegram words it: the HTTP status doubles as ``error_code``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> Json:
        out: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


def bad_request(what: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {what}")


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units, so an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text a reader sees, after Telegram's HTML parser; raises its 400 when it cannot
    parse (an unknown or unclosed tag, a stray ``<``, an unknown ``&name;``)."""
    if (parse_mode or "").upper() != "HTML":
        return text
    out: list[str] = []
    open_tags: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        offset = len(text[: m.start()].encode())
        token = m.group(0)
        if token == "<":
            raise bad_request(
                f'can\'t parse entities: Unsupported start tag "" at byte offset {offset}'
            )
        if token == "&":
            out.append("&")
            continue
        if m.group(4) is not None:
            name = m.group(4)
            if not name.startswith("#") and name not in _ENTITIES:
                raise bad_request(
                    f'can\'t parse entities: Unsupported entity "{name}" at byte offset {offset}'
                )
            out.append(html.unescape(token))
            continue
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag not in _TAGS:
            kind = "end" if closing else "start"
            raise bad_request(
                f'can\'t parse entities: Unsupported {kind} tag "{tag}" at byte offset {offset}'
            )
        if not closing:
            open_tags.append(tag)
        elif not open_tags or open_tags.pop() != tag:
            raise bad_request(
                f'can\'t parse entities: Unmatched end tag at byte offset {offset}, expected "</{tag}>"'
            )
    out.append(text[pos:])
    if open_tags:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{open_tags[-1]}\""
        )
    return "".join(out)


@dataclass
class SentMessage:
    """A message the bot sent, as the chat shows it now (``edits`` keeps the earlier texts'
    successors in order; ``deleted`` once the bot took it back)."""

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
    """One request that reached the fake; ``status`` is what it answered (0: no answer)."""

    method: str
    params: Json
    time: float
    status: int = 200


class RateLimits:
    """Telegram's documented pace for a bot: 20 messages a minute into one group, 30 a second
    overall; beyond that a 429 saying how long to wait."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._overall: deque[float] = deque()
        self._per_group: dict[int, deque[float]] = {}

    def take(self, chat_id: int) -> None:
        now = self.clock()
        windows = [(self._overall, 1.0, 30)]
        if chat_id < 0:
            windows.append((self._per_group.setdefault(chat_id, deque()), 60.0, 20))
        for times, span, limit in windows:
            while times and times[0] <= now - span:
                times.popleft()
            if len(times) >= limit:
                wait = max(1, math.ceil(times[0] + span - now))
                raise TelegramError(429, f"Too Many Requests: retry after {wait}", wait)
        for times, _span, _limit in windows:
            times.append(now)


class TelegramState:
    """Chats, users and everything said in them; each method checks like Telegram would."""

    def __init__(self, bot_user: Json, now: Callable[[], float]) -> None:
        self.bot_user = bot_user
        self.now = now
        self.privacy = True
        self.groups: dict[int, Json] = {}
        self.users: dict[int, Json] = {}
        self.started: set[int] = set()
        self.admins: dict[int, set[int]] = {}
        self.members: dict[int, int] = {}
        self.messages: dict[tuple[int, int], Json] = {}
        self.sent_messages: list[SentMessage] = []
        self.commands: dict[tuple[str, int | None, int | None, str], list[Json]] = {}
        self.forum_topics: dict[int, dict[int, str]] = {}
        self._ids: dict[int, itertools.count[int]] = {}

    # ------------------------------------------------------------------ world

    def add_group(
        self, chat_id: int, title: str, username: str | None, is_forum: bool, members: int
    ) -> Json:
        chat: Json = {"id": chat_id, "type": "supergroup", "title": title}
        if username:
            chat["username"] = username
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
        started_bot: bool,
        is_bot: bool,
        admin_of: tuple[int, ...],
    ) -> Json:
        user: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        if started_bot:
            self.started.add(user_id)
        for chat_id in admin_of:
            self.admins.setdefault(chat_id, set()).add(user_id)
        return user

    def chat(self, chat_id: int) -> Json:
        if chat_id in self.groups:
            return self.groups[chat_id]
        if chat_id in self.users:
            user = self.users[chat_id]
            return {"type": "private", **{k: v for k, v in user.items() if k != "is_bot"}}
        raise bad_request("chat not found")

    def chat_by_username(self, name: str) -> int:
        """A public group's ``@username``, which Telegram takes wherever a chat_id goes."""
        for chat_id, chat in self.groups.items():
            if f"@{chat.get('username', '')}".lower() == name.lower():
                return chat_id
        raise bad_request("chat not found")

    def user(self, user_id: int) -> Json:
        if user_id not in self.users:
            raise bad_request("user not found")
        return self.users[user_id]

    def message(self, chat_id: int, sender: Json, text: str | None, **extra: Any) -> Json:
        """A new message in ``chat_id`` with the chat's next id (users and bot share it)."""
        message_id = next(self._ids.setdefault(chat_id, itertools.count(1)))
        msg: Json = {
            "message_id": message_id,
            "date": int(self.now()),
            "chat": self.chat(chat_id),
            "from": sender,
        }
        if text is not None:
            msg["text"] = text
        msg.update(extra)
        self.messages[(chat_id, message_id)] = msg
        return msg

    def thread_extra(self, chat_id: int, thread_id: int | None, reply_to: int | None) -> Json:
        extra: Json = {}
        if thread_id is not None:
            if not self.groups.get(chat_id, {}).get("is_forum"):
                raise bad_request("message thread not found")
            extra.update(message_thread_id=thread_id, is_topic_message=True)
        if reply_to is not None:
            replied = self.messages.get((chat_id, reply_to))
            if replied is None:
                raise bad_request("message to be replied not found")
            extra["reply_to_message"] = replied
        return extra

    # ------------------------------------------------------------------ the bot's methods

    def can_send(self, chat_id: int) -> None:
        if chat_id > 0 and chat_id in self.users and chat_id not in self.started:
            raise TelegramError(403, "Forbidden: bot can't initiate conversation with a user")
        self.chat(chat_id)

    def send(
        self,
        method: str,
        p: Json,
        text: str,
        parse_mode: str | None,
        photo: bytes | None,
        extra: Json,
    ) -> Json:
        chat_id = int(p["chat_id"])
        reply = p.get("reply_parameters") or {}
        reply_to = reply.get("message_id", p.get("reply_to_message_id"))
        reply_to = int(reply_to) if reply_to is not None else None
        thread = p.get("message_thread_id")
        thread_id = int(thread) if thread is not None else None
        more = self.thread_extra(chat_id, thread_id, reply_to)
        shown = extra.pop("text", None)
        msg = self.message(chat_id, self.bot_user, shown, **more, **extra)
        self.sent_messages.append(
            SentMessage(
                chat_id, msg["message_id"], text, parse_mode, reply_to, thread_id, method, photo
            )
        )
        return msg

    def send_message(self, p: Json) -> Json:
        self.can_send(int(p["chat_id"]))
        text, mode = str(p.get("text", "")), p.get("parse_mode")
        shown = plain_text(text, mode)
        if not shown.strip():
            raise bad_request("message text is empty")
        if utf16_len(shown) > MAX_TEXT:
            raise bad_request("message is too long")
        return self.send("sendMessage", p, text, mode, None, {"text": shown})

    def send_photo(self, p: Json, photo: bytes | None) -> Json:
        self.can_send(int(p["chat_id"]))
        caption, mode = str(p.get("caption", "")), p.get("parse_mode")
        shown = plain_text(caption, mode)
        if utf16_len(shown) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        n = len(self.sent_messages) + 1
        size = {"file_id": f"PHOTO{n}", "file_unique_id": f"U{n}", "width": 640, "height": 480}
        extra: Json = {"photo": [size]}
        if shown:
            extra["caption"] = shown
        return self.send("sendPhoto", p, caption, mode, photo or b"", extra)

    def bot_message(self, p: Json) -> tuple[Json, SentMessage]:
        key = (int(p["chat_id"]), int(p["message_id"]))
        msg = self.messages.get(key)
        record = next((s for s in self.sent_messages if (s.chat_id, s.message_id) == key), None)
        if msg is None or record is None or record.deleted:
            raise bad_request("message to edit not found")
        return msg, record

    def edit_message_text(self, p: Json) -> Json:
        msg, record = self.bot_message(p)
        text, mode = str(p.get("text", "")), p.get("parse_mode")
        shown = plain_text(text, mode)
        if utf16_len(shown) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        if shown == msg.get("text"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
            )
        msg.update(text=shown, edit_date=int(self.now()))
        record.text = text
        record.edits.append(text)
        return msg

    def delete_message(self, p: Json) -> bool:
        try:
            _msg, record = self.bot_message(p)
        except TelegramError:
            raise bad_request("message to delete not found") from None
        record.deleted = True
        del self.messages[(record.chat_id, record.message_id)]
        return True

    def create_forum_topic(self, p: Json) -> Json:
        chat_id = int(p["chat_id"])
        if not self.chat(chat_id).get("is_forum"):
            raise bad_request("the chat is not a forum")
        name = str(p.get("name", ""))
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        created = self.message(
            chat_id, self.bot_user, None, forum_topic_created={"name": name, "icon_color": 7322096}
        )
        thread_id = created["message_id"]
        self.forum_topics.setdefault(chat_id, {})[thread_id] = name
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    def scope_key(self, p: Json) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        chat = scope.get("chat_id")
        user = scope.get("user_id")
        return (
            scope["type"],
            int(chat) if chat is not None else None,
            int(user) if user is not None else None,
            str(p.get("language_code") or ""),
        )

    def set_my_commands(self, p: Json) -> bool:
        commands = list(p.get("commands") or [])
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        self.commands[self.scope_key(p)] = commands
        return True

    def chat_member(self, chat_id: int, user_id: int) -> Json:
        if user_id == self.bot_user["id"]:
            return {"status": "member", "user": self.bot_user}
        user = self.user(user_id)
        if user_id not in self.admins.get(chat_id, set()):
            return {"status": "member", "user": user}
        rights = [
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
        ]
        return {
            "status": "administrator",
            "user": user,
            **dict.fromkeys(rights, False),
            "can_manage_chat": True,
        }

    def full_chat(self, chat_id: int) -> Json:
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **self.chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }
