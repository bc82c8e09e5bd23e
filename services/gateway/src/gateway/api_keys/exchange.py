"""Team API keys (``Authorization: Bearer sk-...``) traded for short-lived JWTs.

The services behind the gateway only understand JWTs. When a request carries an API key, the
gateway asks the auth service for a JWT acting as that key's team and forwards the request
with ``Authorization: Bearer <jwt>`` instead. The JWT is reused for a short while (at most
``KEY_CACHE_SECONDS``, and never past 5 s before it expires), so a revoked key stops working
within that time.

The exchange, as the gateway calls it (``KeyExchange``; the auth service implements it)::

    POST {AUTH_URL}/api/auth/api-keys/exchange   {"apiKey": "sk-..."}
    200 {"accessToken": "<jwt>", "expiresIn": <seconds>}
    401 (or 400/403/422)                          the key is unknown, revoked or expired
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from gateway.metrics import API_KEY_EXCHANGES
from service_kit import ApiError

log = logging.getLogger(__name__)

# Never forward a JWT that expires within this many seconds.
EXPIRY_MARGIN_SECONDS = 5.0
MAX_CACHED_KEYS = 10_000


class InvalidApiKey(Exception):
    """The auth service refused the key."""


class ExchangeUnavailable(Exception):
    """The auth service did not give an answer about the key."""


@dataclass(frozen=True)
class ExchangedToken:
    access_token: str
    expires_in: float


class KeyExchange(Protocol):
    async def exchange(self, api_key: str, request_id: str | None = None) -> ExchangedToken:
        """A JWT for ``api_key``; raises InvalidApiKey or ExchangeUnavailable."""
        ...


_REFUSED = frozenset({400, 401, 403, 422})


class AuthServiceKeyExchange:
    """The exchange over HTTP against the auth service."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self._client = client
        self._path = path

    async def exchange(self, api_key: str, request_id: str | None = None) -> ExchangedToken:
        headers = {"X-Request-ID": request_id} if request_id else {}
        try:
            response = await self._client.post(
                self._path, json={"apiKey": api_key}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ExchangeUnavailable(f"auth service unreachable: {exc!r}") from exc
        if response.status_code in _REFUSED:
            raise InvalidApiKey()
        if response.status_code != 200:
            raise ExchangeUnavailable(f"auth service answered {response.status_code}")
        try:
            body = response.json()
            return ExchangedToken(str(body["accessToken"]), float(body["expiresIn"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ExchangeUnavailable(f"unexpected exchange answer: {exc!r}") from exc


@dataclass
class _Cached:
    token: str
    expires_at: float


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ApiKeyTokens:
    """The JWT to forward for an API key: cached by the key's SHA-256 (the key itself is never
    kept), and exchanged once however many requests with the same key arrive together."""

    def __init__(
        self,
        exchange: KeyExchange,
        max_cache_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_CACHED_KEYS,
    ) -> None:
        self._exchange = exchange
        self._max_cache_seconds = max_cache_seconds
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Task[str]] = {}

    async def token_for(self, api_key: str, request_id: str | None = None) -> str:
        """The JWT for ``api_key``; ApiError 401 (invalid_token) or 503 when there is none."""
        digest = key_digest(api_key)
        cached = self._cache.get(digest)
        if cached is not None and cached.expires_at > self._clock():
            API_KEY_EXCHANGES.labels("cached").inc()
            return cached.token
        task = self._pending.get(digest)
        if task is None:
            task = asyncio.create_task(self._exchange_and_cache(digest, api_key, request_id))
            self._pending[digest] = task
            task.add_done_callback(lambda done: self._finished(digest, done))
        # Shielded: one client going away must not cancel the exchange others wait for.
        return await asyncio.shield(task)

    def _finished(self, digest: str, task: asyncio.Task[str]) -> None:
        if self._pending.get(digest) is task:
            del self._pending[digest]
        if not task.cancelled():
            task.exception()  # retrieved, even when every waiter went away

    async def _exchange_and_cache(self, digest: str, api_key: str, request_id: str | None) -> str:
        try:
            exchanged = await self._exchange.exchange(api_key, request_id)
        except InvalidApiKey:
            self._cache.pop(digest, None)
            API_KEY_EXCHANGES.labels("rejected").inc()
            raise ApiError(401, "invalid_token", "Invalid authentication token") from None
        except ExchangeUnavailable as exc:
            API_KEY_EXCHANGES.labels("unavailable").inc()
            log.warning("API key exchange unavailable", extra={"error": str(exc)})
            raise ApiError(
                503,
                "upstream_unavailable",
                "API keys cannot be checked right now: the auth service does not answer",
                details={"upstream": "auth"},
                headers={"Retry-After": "5"},
            ) from None
        API_KEY_EXCHANGES.labels("exchanged").inc()
        ttl = min(exchanged.expires_in - EXPIRY_MARGIN_SECONDS, self._max_cache_seconds)
        if ttl > 0:
            self._store(digest, _Cached(exchanged.access_token, self._clock() + ttl))
        return exchanged.access_token

    def _store(self, digest: str, entry: _Cached) -> None:
        if digest not in self._cache and len(self._cache) >= self._max_entries:
            now = self._clock()
            for stale in [d for d, e in self._cache.items() if e.expires_at <= now]:
                del self._cache[stale]
            while len(self._cache) >= self._max_entries:
                del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[digest] = entry
