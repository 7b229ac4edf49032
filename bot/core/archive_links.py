"""Addresses of the archive's pages that the bot's posts and files link to.

The archive (bot/web/app.py) serves these paths; the core builds links to them from the
public address alone, so a post or a calendar names the page without the web app.
"""

from __future__ import annotations


def chat_page(public_url: str | None, chat_id: str) -> str | None:
    """A chat's page, with its runs and trends; None without a public address."""
    return f"{public_url.rstrip('/')}/chats/{chat_id}" if public_url else None


def chat_calendar(public_url: str | None, chat_id: str) -> str | None:
    """A chat's calendar feed (``.ics``), which a calendar program subscribes to."""
    page = chat_page(public_url, chat_id)
    return f"{page}/calendar.ics" if page else None


def plan_calendar(public_url: str | None) -> str | None:
    """The calendar feed of every chat of the plan."""
    return f"{public_url.rstrip('/')}/calendar.ics" if public_url else None
