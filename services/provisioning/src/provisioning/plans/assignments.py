"""``PUT /api/plans/{planId}/users/{user}``: a platform admin puts a user on a plan (new users
get the default one at registration, ``onboarding``). The plan's request limit and models apply
in chat within its ``PLAN_CACHE_SECONDS``; its credits come with the user's next plan grant
(one a calendar month: a grant already made this month stays)."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path

from jwt_contract.dependencies import RequireAdmin
from provisioning.audit.service import Actor, record
from provisioning.clients.auth import AuthClient
from provisioning.dependencies import Pool
from provisioning.plans import repository
from provisioning.plans.service import unknown_plan
from provisioning.schemas import CamelModel
from service_kit import ApiError, Text, app_state, error_responses

router = APIRouter(prefix="/api/plans", tags=["plans"])

Auth = Annotated[AuthClient, Depends(app_state("auth"))]


class PlanAssignmentOut(CamelModel):
    user_id: str
    username: str
    plan_id: UUID
    plan_name: str
    previous_plan_id: UUID | None
    assigned_at: datetime


@router.put(
    "/{plan_id}/users/{user}",
    summary="Put a user on a plan (admin)",
    description="`user` is the username, email or id. The user leaves the plan they were on; "
    "chat applies the new plan's requests per minute and models within PLAN_CACHE_SECONDS. "
    "Putting a user on the plan they are on changes nothing but `assignedAt`.",
    responses=error_responses(401, 403, 404, 422, 502, 503),
)
async def assign_plan(
    plan_id: UUID,
    user: Annotated[Text, Path(min_length=1, max_length=254)],
    admin: RequireAdmin,
    pool: Pool,
    auth: Auth,
) -> PlanAssignmentOut:
    found = await auth.find_user(user)
    if found is None:
        raise ApiError(404, "user_not_found", f"No user is called {user}")
    async with pool.acquire() as conn, conn.transaction():
        plan = await repository.by_id(conn, plan_id)
        if plan is None:
            raise unknown_plan()
        before, after = await repository.reassign(
            conn, user_id=found.id, username=found.username, plan_id=plan_id, source="admin"
        )
        await record(
            conn,
            Actor.of(admin),
            "plan.assigned",
            target_type="user",
            target_id=found.id,
            before=None if before is None else {"planId": before.plan_id},
            after={"plan": plan.name, "planId": plan.id},
        )
    return PlanAssignmentOut(
        user_id=found.id,
        username=found.username,
        plan_id=plan.id,
        plan_name=plan.name,
        previous_plan_id=None if before is None else before.plan_id,
        assigned_at=after.assigned_at,
    )
