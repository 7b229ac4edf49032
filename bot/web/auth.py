"""ARCHIVE_TOKEN: keeps a private community's archive private without user accounts.

A person opens the link once with ``?token=...``; the archive answers with a cookie and a
redirect to the same page without the token (so it does not stay in the address bar, the
history or Referer headers). Scripts send ``Authorization: Bearer ...`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "chathost_archive"
OPEN_PATHS = frozenset({"/healthz"})
COOKIE_DAYS = 90
FEED_SUFFIX = ".ics"


def cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, so the token itself is never stored."""
    return hmac.new(token.encode(), b"chathost archive cookie", hashlib.sha256).hexdigest()


def feed_token(token: str) -> str:
    """The token of the calendar links the pages show: a calendar program keeps no cookie,
    so its subscription URL carries a token, and one derived from ARCHIVE_TOKEN opens only
    the ``.ics`` feeds, so a shared calendar link does not open the whole archive."""
    return hmac.new(token.encode(), b"chathost calendar feed", hashlib.sha256).hexdigest()[:32]


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class TokenGate:
    """ASGI middleware: every path except /healthz needs the token (when one is set)."""

    def __init__(self, app: ASGIApp, token: str | None, *, secure_cookie: bool = False) -> None:
        self.app = app
        self.token = token or None
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._check(request, self.token)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def _check(self, request: Request, token: str) -> Response | None:
        """None to let the request through, else the answer: a redirect or a 401."""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), token):
            return None
        if _same(request.cookies.get(COOKIE), cookie_value(token)):
            return None
        if request.url.path.endswith(FEED_SUFFIX):
            given = request.query_params.get("token")
            if _same(given, token) or _same(given, feed_token(token)):
                return None  # no redirect to a cookie: calendar programs keep none
        if _same(request.query_params.get("token"), token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            path = "/" + request.url.path.lstrip("/")  # never "//host": no open redirect
            target = path + (f"?{urlencode(rest)}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(
                COOKIE,
                cookie_value(token),
                max_age=COOKIE_DAYS * 86400,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookie,
            )
            return redirect
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Private archive</title>"
            "<h1>This chat archive is private</h1>"
            "<p>Open the link you were given (it ends in <code>?token=...</code>).</p>",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="chathost archive"'},
        )
