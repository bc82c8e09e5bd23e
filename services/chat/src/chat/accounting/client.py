"""Chat's calls to the accounting service, with the user's own token forwarded.

If accounting cannot be reached, chat answers 503: no credit check means no model call.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

import httpx

from service_kit import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    id: str
    allocated_credits: Decimal


def unavailable() -> ApiError:
    return ApiError(
        503, "accounting_unavailable", "Credit checks are unavailable right now; try again shortly"
    )


class AccountingClient:
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(base_url=base_url, timeout=10, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, token: str, body: dict) -> httpx.Response:
        try:
            return await self._client.post(
                path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            log.warning("accounting unreachable", extra={"path": path, "error": repr(exc)})
            raise unavailable() from exc

    async def reserve(
        self, token: str, *, session_id: str, model_id: str, estimated_tokens: int
    ) -> Reservation:
        response = await self._post(
            "/api/streaming-sessions/initialize",
            token,
            {"sessionId": session_id, "modelId": model_id, "estimatedTokens": estimated_tokens},
        )
        if response.status_code == 201:
            body = response.json()
            return Reservation(body["streamingSessionId"], Decimal(str(body["allocatedCredits"])))
        if response.status_code == 402:
            body = response.json()
            raise ApiError(
                402, "insufficient_credits", "Insufficient credits", details=body.get("details")
            )
        if response.status_code == 401:
            raise ApiError(401, "invalid_token", "Invalid authentication token")
        log.error(
            "accounting refused a reservation",
            extra={"status": response.status_code, "body": response.text[:300]},
        )
        raise unavailable()

    async def finalize(
        self,
        token: str,
        *,
        reservation_id: str,
        input_tokens: int,
        output_tokens: int,
        success: bool,
    ) -> Decimal | None:
        """Settle now and return the credits charged; None when accounting cannot answer
        (the usage event settles it later, for the same amount)."""
        try:
            response = await self._post(
                "/api/streaming-sessions/finalize",
                token,
                {
                    "streamingSessionId": reservation_id,
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "success": success,
                },
            )
        except ApiError:
            return None
        if response.status_code != 200:
            log.warning(
                "finalize refused",
                extra={"status": response.status_code, "body": response.text[:300]},
            )
            return None
        return Decimal(str(response.json()["usedCredits"]))

    async def available_credits(self, token: str) -> Decimal:
        try:
            response = await self._client.get(
                "/api/credits/balance", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            log.warning("accounting unreachable", extra={"error": repr(exc)})
            raise unavailable() from exc
        if response.status_code != 200:
            raise unavailable()
        return Decimal(str(response.json()["availableCredits"]))
