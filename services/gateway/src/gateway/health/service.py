"""Readiness of the whole front door: the gateway's own dependencies and every upstream's."""

import asyncio
import logging
from typing import Any

from gateway.proxy.upstreams import Upstream
from service_client import RawHeaders, UpstreamError
from service_kit import ReadinessCheck

log = logging.getLogger(__name__)

OK, DOWN = "ok", "down"


class Readiness:
    def __init__(
        self,
        upstreams: dict[str, Upstream],
        checks: dict[str, ReadinessCheck],
        timeout_seconds: float,
    ) -> None:
        self._upstreams = upstreams
        self._checks = checks
        self._timeout = timeout_seconds

    async def report(self, request_id: str | None = None) -> tuple[bool, dict[str, Any]]:
        """(ready, body): every check and upstream asked at once, each with a short timeout."""
        own, services = await asyncio.gather(
            _gather({name: self._check(name, check) for name, check in self._checks.items()}),
            _gather(
                {
                    name: self._upstream_ready(upstream, request_id)
                    for name, upstream in self._upstreams.items()
                }
            ),
        )
        optional = sorted(name for name, u in self._upstreams.items() if u.optional)
        down = [name for name, status in own.items() if status != OK] + [
            name
            for name, status in services.items()
            if status != OK and not self._upstreams[name].optional
        ]
        return not down, {"down": down, "checks": own, "services": services, "optional": optional}

    async def _check(self, name: str, check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), self._timeout)
        except Exception as exc:
            log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            return DOWN
        return OK

    async def _upstream_ready(self, upstream: Upstream, request_id: str | None) -> str:
        headers: RawHeaders = [(b"accept", b"application/json")]
        if request_id:
            headers.append((b"x-request-id", request_id.encode("latin-1")))
        target = upstream.raw_target(b"/api/health/ready", b"")
        try:
            async with asyncio.timeout(self._timeout):
                reply = await upstream.probe.fetch("GET", target, headers)
        except (UpstreamError, TimeoutError) as exc:
            _log_down(upstream, {"error": repr(exc)})
            return DOWN
        if reply.status != 200:
            _log_down(upstream, {"status": reply.status})
            return DOWN
        return OK


def _log_down(upstream: Upstream, extra: dict[str, Any]) -> None:
    # An optional upstream is expected to be down at times (one not deployed yet): no warning
    # at every probe for it.
    level = logging.INFO if upstream.optional else logging.WARNING
    log.log(level, "upstream not ready", extra={"upstream": upstream.name, **extra})


async def _gather(coroutines: dict[str, Any]) -> dict[str, str]:
    results = await asyncio.gather(*coroutines.values())
    return dict(zip(coroutines, results, strict=True))
