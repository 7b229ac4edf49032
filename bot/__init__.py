"""chathost: hosts recurring community chats in Discord, Slack and the terminal."""

__version__ = "0.1.0"
