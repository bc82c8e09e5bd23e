"""Chat's call to provisioning for a user's plan, through the platform's one service client."""

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from chat.schemas import CamelModel
from service_client import ServiceClient, peer_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallerPlan:
    """The terms of a user's plan in force: ``models`` None allows every model."""

    plan_id: str
    name: str
    requests_per_minute: int
    models: frozenset[str] | None


class _PlanTerms(CamelModel):
    id: str
    name: str
    requests_per_minute: int
    models: list[str] | None


class _UserPlan(CamelModel):
    """What provisioning answers (its ``CurrentPlan``); the other fields are not chat's."""

    plan: _PlanTerms | None


class PlanClient:
    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def plan_of(self, user_id: str) -> CallerPlan | None:
        """The user's plan, None when they are on none; 503 ``provisioning_unavailable`` when
        provisioning cannot say (down, or an answer chat cannot read)."""
        reply = await self._client.request("GET", "/internal/users/{}/plan", user_id)
        if reply.status != 200:
            log.error(
                "provisioning refused a plan lookup",
                extra={"status": reply.status, "body": reply.text()},
            )
            raise peer_unavailable("provisioning")
        try:
            terms = _UserPlan.model_validate_json(reply.body).plan
        except ValidationError:
            log.error("provisioning's plan is malformed", extra={"body": reply.text()})
            raise peer_unavailable("provisioning") from None
        if terms is None:
            return None
        return CallerPlan(
            plan_id=terms.id,
            name=terms.name,
            requests_per_minute=terms.requests_per_minute,
            models=None if terms.models is None else frozenset(terms.models),
        )
