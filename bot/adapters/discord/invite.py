"""``chathost discord-invite``: the OAuth2 URL that adds the bot to a server with exactly the
permissions it uses, and the scope that lets it register slash commands."""

from __future__ import annotations

import base64
import binascii
import sys
from typing import TextIO

import discord

from bot.adapters.discord.config import DiscordSettings
from bot.settings import Settings

SCOPES = ("bot", "applications.commands")


def bot_permissions(*, events: bool = False) -> discord.Permissions:
    """What chathost does in a channel, and nothing more; ``events``: a plan's chat keeps
    guild scheduled events (``events: true``)."""
    return discord.Permissions(
        manage_events=events,  # create, edit, start, end and cancel the chats' events
        view_channel=True,  # see the chat's channel
        send_messages=True,  # questions, intro, outro, recap
        send_messages_in_threads=True,  # question threads, recap details
        create_public_threads=True,  # threads: per-question / per-chat
        embed_links=True,  # questions and the recap are embeds
        attach_files=True,  # exports attached to the recap (later)
        read_message_history=True,  # replies to earlier messages, threads
        add_reactions=True,  # acknowledging answers
    )


def invite_url(client_id: str, *, events: bool = False) -> str:
    permissions = bot_permissions(events=events)
    return discord.utils.oauth_url(client_id, permissions=permissions, scopes=SCOPES)


def client_id_from_token(token: str) -> str | None:
    """A bot token starts with the bot's user id in base64, which is the application id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() else None


def invite_command(
    settings: Settings,
    client_id: str | None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    events: bool = False,
) -> int:
    """Print the invite URL; 2 with a hint when no application id can be found."""
    out, err = out or sys.stdout, err or sys.stderr
    own = settings.platform_settings(DiscordSettings)
    token = own.token.get_secret_value() if own.token else ""
    wanted = (
        client_id
        or (own.client_id or "").strip()
        or (client_id_from_token(token) if token else None)
    )
    if not wanted:
        print(
            "No application id: pass --client-id or set DISCORD_CLIENT_ID (Developer Portal -> "
            "your application -> General Information -> Application ID).",
            file=err,
        )
        return 2
    if not wanted.isdigit():
        print(f"{wanted!r} is not an application id (a number such as 1234567890).", file=err)
        return 2
    print(invite_url(wanted, events=events), file=out)
    print(
        f"Open it, pick your server, keep the permissions "
        f"({bot_permissions(events=events).value}). "
        "Then run: chathost run --platform discord",
        file=err,
    )
    return 0
