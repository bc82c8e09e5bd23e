"""This service's own token, traded at auth for its client id and secret (OAuth 2.0 client
credentials, RFC 6749 §4.4) and reused until shortly before it expires."""

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote, urlencode, urlsplit

from service_client.upstream import RawHeaders, Timeouts, UpstreamError, UpstreamPool

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/auth/token"
# A token is renewed once this share of its life has passed, so one in use never expires on
# its way to a peer.
RENEW_AFTER_SHARE = 0.8
TIMEOUTS = Timeouts(connect=5, read=10, write=10, pool=5)


class TokenSource(Protocol):
    """Where a client gets this service's token (``ServiceTokens``, or a fake in tests)."""

    async def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class ServiceTokenError(Exception):
    """Auth gave no token: unreachable (``unavailable``) or the credentials were refused."""

    def __init__(self, message: str, *, unavailable: bool) -> None:
        super().__init__(message)
        self.unavailable = unavailable


class ServiceTokens:
    """One service's token source: a single request to auth at a time, however many calls
    need a token at once."""

    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._base = urlsplit(auth_url).path.rstrip("/")
        self._pool = UpstreamPool(auth_url, TIMEOUTS, max_connections=4)
        basic = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        self._authorization = b"Basic " + base64.b64encode(basic.encode())
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def token(self) -> str:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token
        async with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return self._token
            token, ttl = await self._fetch()
            self._token, self._renew_at = token, self._clock() + ttl * RENEW_AFTER_SHARE
            return token

    def invalidate(self, token: str) -> None:
        """A peer refused ``token`` (auth's keys rotated, say): the next call gets a new one."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> tuple[str, float]:
        form = urlencode({"grant_type": "client_credentials"}).encode()
        headers: RawHeaders = [
            (b"authorization", self._authorization),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"accept", b"application/json"),
        ]
        try:
            reply = await self._pool.fetch(
                "POST", (self._base + TOKEN_PATH).encode(), headers, form
            )
        except UpstreamError as exc:
            raise ServiceTokenError(f"auth unreachable: {exc!r}", unavailable=True) from exc
        if reply.status != 200:
            log.error(
                "auth refused this service's credentials",
                extra={"clientId": self.client_id, "status": reply.status},
            )
            raise ServiceTokenError(
                f"auth answered {reply.status} to the client credentials",
                unavailable=reply.status >= 500,
            )
        try:
            body = json.loads(reply.body)
            return str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceTokenError("auth's token answer is malformed", unavailable=True) from exc
