"""What goes wrong when the adapter first talks to Slack, as errors a user can act on.

At start a failure is the user's to fix or to wait out, so it must end ``chathost run`` with
one line and an exit code (``bot.core.errors``), not with aiohttp's or slack_sdk's traceback:
Slack cannot be reached (PlatformUnreachable), or it refuses a token (SettingsError, naming
the variable). Once running, the same failures are the Port's (transient PortErrors).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError

from bot.adapters.reach import masked_url, network_reason
from bot.core.errors import PlatformUnreachable, SettingsError

__all__ = ["check_api_url", "masked_url", "network_reason", "start_errors"]

# Slack's answers that mean the token itself is wrong: no retry or wait fixes them.
TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


def check_api_url(url: str) -> None:
    """slack_sdk sends the token as a header; aiohttp then refuses credentials in the URL."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise SettingsError(
            f"SLACK_API_URL ({masked_url(url)}) carries a user name or password: remove them "
            "(the Slack token is sent on its own)"
        )


@asynccontextmanager
async def start_errors(url: str, token_variable: str, timeout: float) -> AsyncIterator[None]:
    """Turn what a first Web API call raises into PlatformUnreachable or SettingsError.

    ``token_variable`` names the setting that holds the token the call used."""
    try:
        yield
    except SlackApiError as exc:
        error, status = _answer(exc)
        if error in TOKEN_REFUSED:
            raise SettingsError(
                f"Slack refused the token in {token_variable} ({error}): check that it is "
                "this app's, current, and of the right kind (xoxb- bot, xapp- app-level)"
            ) from None
        reason = f"it answered HTTP {status}" if status >= 500 else f"it answered {error!r}"
        raise PlatformUnreachable("slack", masked_url(url), reason) from None
    except (ClientError, TimeoutError) as exc:
        raise PlatformUnreachable("slack", masked_url(url), network_reason(exc, timeout)) from None


def _answer(exc: SlackApiError) -> tuple[str, int]:
    """Slack's error code and the HTTP status (a proxy's error page has no code)."""
    status = int(getattr(exc.response, "status_code", 0) or 0)
    try:
        return str(exc.response.get("error") or f"http_{status}"), status
    except Exception:  # not a JSON body
        return f"http_{status}", status
