"""The Telegram adapter: Bot API updates in (long polling or a webhook), HTML posts out.

See README "Run it in Telegram". Nothing here imports python-telegram-bot at package import:
listing the installed platforms (``chathost --help``) imports every plugin.
"""
