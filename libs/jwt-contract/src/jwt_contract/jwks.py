"""Public keys fetched from the auth service's JWKS endpoint and cached."""

import asyncio
import logging
import time

import httpx

from jwt_contract.keys import VerificationKey

log = logging.getLogger(__name__)


class JwksKeySet:
    """Keys from ``GET {auth}/api/auth/.well-known/jwks.json``.

    Keys are reloaded when older than ``ttl_seconds`` (so a withdrawn key stops verifying) and
    when a token names an unknown kid (so a rotated-in key works at once), but never more often
    than every ``min_refresh_seconds``: a stream of forged kids cannot turn into a stream of
    requests to the auth service.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        ttl_seconds: float = 300,
        min_refresh_seconds: float = 10,
    ) -> None:
        self.url = url
        self._client = client or httpx.AsyncClient(timeout=5)
        self._ttl = ttl_seconds
        self._min_refresh = min_refresh_seconds
        self._keys: dict[str, VerificationKey] = {}
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    def get(self, kid: str) -> VerificationKey | None:
        return self._keys.get(kid)

    async def refresh_for(self, kid: str) -> bool:
        await self._refresh(force=False)
        return kid in self._keys

    async def refresh_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at > self._ttl:
            await self._refresh(force=False)

    async def load(self) -> None:
        """Fetch the keys now; raises when the auth service does not answer."""
        await self._refresh(force=True, raise_errors=True)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _refresh(self, *, force: bool, raise_errors: bool = False) -> None:
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._attempted_at < self._min_refresh:
                return
            self._attempted_at = now
            try:
                response = await self._client.get(self.url)
                response.raise_for_status()
                keys = [VerificationKey.from_jwk(jwk) for jwk in response.json()["keys"]]
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                log.warning("could not load JWKS", extra={"url": self.url, "error": repr(exc)})
                if raise_errors:
                    raise
                return
            self._keys = {key.kid: key for key in keys}
            self._loaded_at = now
