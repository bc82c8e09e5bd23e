"""Chat's calls to the accounting service, through the platform's one service client.

Chat holds, extends and settles credits as itself (its service token, scopes
``credits:reserve`` and ``credits:settle``); a hold is for the user whose token goes along in
``X-On-Behalf-Of``, and only chat says what an answer used. If accounting cannot be reached,
chat answers 503: no credit check means no model call.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from service_client import PeerReply, ServiceClient, peer_unavailable
from service_kit import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reservation:
    """A credit hold at accounting; ``id`` is its ``streamingSessionId``."""

    id: str
    allocated_credits: Decimal
    expires_at: datetime


class HoldLost(Exception):
    """Accounting no longer holds the reservation (settled or expired): stop the answer."""


def unavailable() -> ApiError:
    return peer_unavailable("accounting")


def _field(reply: PeerReply, name: str) -> object:
    body = reply.json()
    if not isinstance(body, dict) or name not in body:
        raise KeyError(name)
    return body[name]


class AccountingClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def reserve(
        self,
        user_token: str,
        *,
        session_id: str,
        model_id: str,
        estimated_tokens: int,
        byok: bool = False,
    ) -> Reservation:
        """``byok``: the answer is asked with the caller's own credential, held and charged
        at accounting's BYOK fee (sent only then, as accounting's default is false)."""
        body: dict[str, object] = {
            "sessionId": session_id,
            "modelId": model_id,
            "estimatedTokens": estimated_tokens,
        }
        if byok:
            body["byok"] = True
        reply = await self._client.request(
            "POST",
            "/api/streaming-sessions/initialize",
            json_body=body,
            on_behalf_of=user_token,
        )
        if reply.status == 201:
            try:
                return Reservation(
                    str(_field(reply, "streamingSessionId")),
                    Decimal(str(_field(reply, "allocatedCredits"))),
                    datetime.fromisoformat(str(_field(reply, "expiresAt"))),
                )
            except (KeyError, ArithmeticError, ValueError):
                log.error("accounting's reservation is malformed", extra={"body": reply.text()})
                raise unavailable() from None
        if reply.status == 402:
            body = reply.json()
            refusal = body if isinstance(body, dict) else {}
            details = refusal.get("details")
            if (
                refusal.get("code") == "key_budget_exceeded"
            ):  # the API key's budget, not the balance
                message = str(refusal.get("message") or "The API key's budget is spent")
                raise ApiError(402, "key_budget_exceeded", message, details=details)
            raise ApiError(402, "insufficient_credits", "Insufficient credits", details=details)
        if reply.status == 401:
            raise ApiError(401, "invalid_token", "Invalid authentication token")
        log.error(
            "accounting refused a reservation",
            extra={"status": reply.status, "body": reply.text()},
        )
        raise unavailable()

    async def extend(
        self, streaming_session_id: str, *, input_tokens: int, output_tokens: int
    ) -> datetime:
        """Keep the hold and report the progress so far; raises HoldLost when it is gone and
        ApiError (503) when accounting does not answer."""
        reply = await self._client.request(
            "POST",
            "/api/streaming-sessions/{}/extend",
            streaming_session_id,
            json_body={"inputTokens": input_tokens, "outputTokens": output_tokens},
        )
        if reply.status in (404, 409):
            raise HoldLost(reply.text())
        if reply.status != 200:
            log.warning(
                "extend refused",
                extra={
                    "streamingSessionId": streaming_session_id,
                    "status": reply.status,
                    "body": reply.text(),
                },
            )
            raise unavailable()
        try:
            return datetime.fromisoformat(str(_field(reply, "expiresAt")))
        except (KeyError, ValueError):
            raise unavailable() from None

    async def finalize(
        self,
        *,
        streaming_session_id: str,
        input_tokens: int,
        output_tokens: int,
        success: bool,
    ) -> Decimal | None:
        """Settle the hold ``streaming_session_id`` (its ``streamingSessionId``) now and return the
        credits charged; None when accounting cannot answer (the usage event settles it later,
        for the same amount)."""
        try:
            reply = await self._client.request(
                "POST",
                "/api/streaming-sessions/finalize",
                json_body={
                    "streamingSessionId": streaming_session_id,
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "success": success,
                },
            )
        except ApiError:
            return None
        if reply.status != 200:
            log.warning(
                "finalize refused",
                extra={
                    "streamingSessionId": streaming_session_id,
                    "status": reply.status,
                    "body": reply.text(),
                },
            )
            return None
        try:
            return Decimal(str(_field(reply, "usedCredits")))
        except (KeyError, ArithmeticError):
            log.warning(
                "finalize answer is malformed",
                extra={"streamingSessionId": streaming_session_id, "body": reply.text()},
            )
            return None

    async def available_credits(self, user_token: str) -> Decimal:
        reply = await self._client.request("GET", "/api/credits/balance", user_token=user_token)
        if reply.status != 200:
            raise unavailable()
        try:
            return Decimal(str(_field(reply, "availableCredits")))
        except (KeyError, ArithmeticError):
            raise unavailable() from None
