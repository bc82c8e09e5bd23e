"""One place that turns a peer service's failures into the errors provisioning answers with."""

import logging

import httpx

from service_kit import ApiError

log = logging.getLogger(__name__)


def unavailable(service: str) -> ApiError:
    return ApiError(
        503, f"{service}_unavailable", f"The {service} service is unavailable; try again shortly"
    )


class PeerClient:
    """An HTTP client for one peer service; unreachable → 503, unexpected answers → 502."""

    service = "peer"

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            log.warning(
                "peer service unreachable",
                extra={"peer": self.service, "path": path, "error": repr(exc)},
            )
            raise unavailable(self.service) from exc

    def unexpected(self, response: httpx.Response) -> ApiError:
        log.error(
            "unexpected answer from a peer service",
            extra={
                "peer": self.service,
                "path": response.request.url.path,
                "status": response.status_code,
                "body": response.text[:500],
            },
        )
        return ApiError(502, "upstream_error", f"The {self.service} service answered unexpectedly")
