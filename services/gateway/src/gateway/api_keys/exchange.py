"""Team API keys (``Authorization: Bearer sk-...``) traded for short-lived JWTs.

The services behind the gateway only understand JWTs. When a request carries an API key, the
gateway asks the auth service for a JWT acting as that key's team and forwards the request
with ``Authorization: Bearer <jwt>`` instead. The JWT is reused for a short while (at most
``KEY_CACHE_SECONDS``, and never past 5 s before it expires), so a revoked key stops working
within that time.

The exchange, as the gateway calls it (``KeyExchange``; the auth service implements it)::

    POST {AUTH_URL}/internal/api-keys/exchange   {"apiKey": "sk-..."}  (the gateway's token)
    200 {"accessToken": "<jwt>", "expiresIn": <seconds>}
    401 {"code": "invalid_api_key"} (or 400/422)  the key is unknown, revoked or expired
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from gateway.limits.edge_limit import EdgeRateLimiter
from gateway.metrics import API_KEY_EXCHANGES
from service_client import ServiceClient
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


# Auth's answers that are about the key; any other 401/403 is about the gateway's own token.
_KEY_REFUSED_CODE = "invalid_api_key"
_MALFORMED = frozenset({400, 422})


class AuthServiceKeyExchange:
    """The exchange over HTTP against the auth service, as the gateway itself (its service
    token with ``api-keys:exchange``; the route is under ``/internal``, never routed). The
    request id goes along from the request context."""

    def __init__(self, client: ServiceClient, path: str) -> None:
        self._client = client
        self._path = path

    async def exchange(self, api_key: str, request_id: str | None = None) -> ExchangedToken:
        try:
            reply = await self._client.request("POST", self._path, json_body={"apiKey": api_key})
        except ApiError as exc:
            raise ExchangeUnavailable(f"auth service unavailable: {exc.code}") from exc
        body = reply.json()
        code = body.get("code") if isinstance(body, dict) else None
        if reply.status in _MALFORMED or (reply.status == 401 and code == _KEY_REFUSED_CODE):
            raise InvalidApiKey()
        if reply.status != 200:
            raise ExchangeUnavailable(f"auth service answered {reply.status}")
        try:
            return ExchangedToken(str(body["accessToken"]), float(body["expiresIn"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ExchangeUnavailable(f"unexpected exchange answer: {exc!r}") from exc


@dataclass
class _Cached:
    token: str
    expires_at: float


_Entry = TypeVar("_Entry", _Cached, float)  # a cached token, or until when a key is refused


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _invalid_key() -> ApiError:
    return ApiError(401, "invalid_token", "Invalid authentication token")


class ApiKeyTokens:
    """The JWT to forward for an API key: cached by the key's SHA-256 (the key itself is never
    kept), and exchanged once however many requests with the same key arrive together.

    A key auth refused is refused again for ``refusal_cache_seconds`` without asking. Failed
    attempts count per client address (``failures``, a limiter in Redis): past its limit an
    address gets 429 without auth being asked, so guessing keys costs auth nothing. An attempt
    is counted before auth is asked (so a burst cannot outrun the count) and given back when
    the key turns out to be good or auth gives no answer.
    """

    def __init__(
        self,
        exchange: KeyExchange,
        max_cache_seconds: float,
        *,
        refusal_cache_seconds: float = 30.0,
        failures: EdgeRateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_CACHED_KEYS,
    ) -> None:
        self._exchange = exchange
        self._max_cache_seconds = max_cache_seconds
        self._refusal_seconds = refusal_cache_seconds
        self._failures = failures
        self._clock = clock
        self._max_entries = max_entries
        self._cache: dict[str, _Cached] = {}
        self._refused: dict[str, float] = {}  # digest -> until when
        self._pending: dict[str, asyncio.Task[str]] = {}

    async def token_for(
        self, api_key: str, request_id: str | None = None, *, client: str = "unknown"
    ) -> str:
        """The JWT for ``api_key`` sent from address ``client``; ApiError 401 (invalid_token),
        429 (too many failures from ``client``) or 503 when there is none."""
        digest = key_digest(api_key)
        cached = self._cache.get(digest)
        if cached is not None and cached.expires_at > self._clock():
            API_KEY_EXCHANGES.labels("cached").inc()
            return cached.token
        counted = None
        task = self._pending.get(digest)
        if task is None:
            counted = await self._count_attempt(client)
            if self._refused.get(digest, 0.0) > self._clock():
                API_KEY_EXCHANGES.labels("refused_cached").inc()
                raise _invalid_key()  # and the attempt stays counted
            task = self._pending.get(digest)  # another request may have started it meanwhile
            if task is None:
                task = asyncio.create_task(self._exchange_and_cache(digest, api_key, request_id))
                self._pending[digest] = task
                task.add_done_callback(lambda done: self._finished(digest, done))
        try:
            # Shielded: one client going away must not cancel the exchange others wait for.
            token = await asyncio.shield(task)
        except ApiError as exc:
            if counted is not None and exc.status != 401:
                await self._give_back(counted)  # auth gave no answer: not the client's failure
            raise
        if counted is not None:
            await self._give_back(counted)
        return token

    async def _count_attempt(self, client: str) -> str | None:
        if self._failures is None:
            return None
        try:
            return await self._failures.check(f"ip:{client}")
        except ApiError:
            API_KEY_EXCHANGES.labels("throttled").inc()
            raise

    async def _give_back(self, counted: str) -> None:
        assert self._failures is not None
        await self._failures.give_back(counted)

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
            if self._refusal_seconds > 0:
                self._store(self._refused, digest, self._clock() + self._refusal_seconds)
            API_KEY_EXCHANGES.labels("rejected").inc()
            raise _invalid_key() from None
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
        self._refused.pop(digest, None)
        ttl = min(exchanged.expires_in - EXPIRY_MARGIN_SECONDS, self._max_cache_seconds)
        if ttl > 0:
            self._store(self._cache, digest, _Cached(exchanged.access_token, self._clock() + ttl))
        return exchanged.access_token

    def _store(self, cache: dict[str, _Entry], digest: str, entry: _Entry) -> None:
        """Bounded: past ``max_entries``, expired entries go first, then the oldest."""
        if digest not in cache and len(cache) >= self._max_entries:
            now = self._clock()
            for stale in [d for d, e in cache.items() if _expiry(e) <= now]:
                del cache[stale]
            while len(cache) >= self._max_entries:
                del cache[next(iter(cache))]  # the oldest entry
        cache[digest] = entry


def _expiry(entry: _Cached | float) -> float:
    return entry.expires_at if isinstance(entry, _Cached) else entry
