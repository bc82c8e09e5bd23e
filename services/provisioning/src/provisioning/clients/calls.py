"""The base of provisioning's peer clients: the platform's service client (this service's own
token, request id, URL-encoded paths, 503 when a peer is down), plus typed methods per peer."""

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from provisioning.schemas import CamelModel
from service_client import PeerReply, ServiceClient, ServiceTokens
from service_kit import ApiError

AnswerT = TypeVar("AnswerT", bound=BaseModel)


class PeerAnswer(CamelModel):
    """A peer's answer, read for the fields provisioning uses: a peer may add others."""

    model_config = ConfigDict(extra="ignore")


class PeerClient:
    """A client for one peer service; unreachable → 503, unexpected answers → 502."""

    service = "peer"

    def __init__(
        self, base_url: str, tokens: ServiceTokens | None, *, timeout: float = 10.0
    ) -> None:
        self._client = ServiceClient(base_url, self.service, tokens, timeout_seconds=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        template: str,
        *segments: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        user_token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PeerReply:
        """``template`` with each ``{}`` filled by one URL-encoded segment; as this service,
        or with ``user_token`` alone for a route users call themselves; ``headers`` go along."""
        return await self._client.request(
            method,
            template,
            *segments,
            json_body=json,
            params=params,
            user_token=user_token,
            headers=headers,
        )

    def parse(self, reply: PeerReply, answer: type[AnswerT]) -> AnswerT:
        """The reply's body as ``answer``; a body of another shape is unexpected (502).

        Fractional JSON numbers are read as decimals, so credits never pass through a float."""
        try:
            return answer.model_validate(json.loads(reply.body, parse_float=Decimal))
        except (ValueError, ValidationError):  # not JSON, or not of that shape
            raise self.unexpected(reply) from None

    def unexpected(self, reply: PeerReply) -> ApiError:
        return self._client.unexpected(reply)
