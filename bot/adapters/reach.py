"""How an adapter names a platform it cannot reach: the URL as it may be printed, and the
network failure in a few words. Shared by the adapters built on aiohttp (Slack, Discord)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from aiohttp import ClientConnectorDNSError, ClientConnectorError


def masked_url(url: str) -> str:
    """The URL as it may be printed: a password and every query value replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(f"{quote(key)}=***" for key, _ in pairs)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def network_reason(exc: BaseException, timeout: float | None = None) -> str:
    """A network failure in a few words; aiohttp's own text repeats the whole connection key
    (host, port, ssl, proxy...), which buries the one fact that matters in every log line."""
    if isinstance(exc, ClientConnectorDNSError):
        return f"the host name {exc.host} does not resolve"
    if isinstance(exc, ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return f"connection to {exc.host}:{exc.port} refused (nothing listens there)"
        return f"cannot connect to {exc.host}:{exc.port} ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} seconds" if timeout else "no answer in time"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
