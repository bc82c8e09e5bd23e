"""Typed aliases for what routes receive."""

import dataclasses
from typing import Annotated

from fastapi import Depends

from chat.catalog.catalog import ModelCatalog
from chat.limits.request_limit import RequestLimiter
from chat.model_health.monitor import ModelHealthMonitor
from chat.observation.hub import ObserverHub
from chat.plans.caller import plan_models
from chat.plans.lookup import PlanLookup
from chat.sessions.records import SessionRecord
from chat.sessions.service import SessionsService
from chat.streaming.service import StreamService
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import app_state

Streams = Annotated[StreamService, Depends(app_state("streams"))]
_AppCatalog = Annotated[ModelCatalog, Depends(app_state("catalog"))]
_AppSessions = Annotated[SessionsService, Depends(app_state("sessions"))]
Plans = Annotated[PlanLookup | None, Depends(app_state("plans"))]
Observers = Annotated[ObserverHub, Depends(app_state("observers"))]
Limiter = Annotated[RequestLimiter, Depends(app_state("limiter"))]
ModelHealth = Annotated[ModelHealthMonitor, Depends(app_state("model_health"))]


async def _caller_catalog(
    principal: CurrentPrincipal, catalog: _AppCatalog, plans: Plans
) -> ModelCatalog:
    """The catalog as the caller sees it: narrowed by their plan's model groups."""
    return catalog.under_plan(await plan_models(plans, principal))


Catalog = Annotated[ModelCatalog, Depends(_caller_catalog)]


async def _caller_sessions(sessions: _AppSessions, catalog: Catalog) -> SessionsService:
    """Sessions for the caller, whose model (at creation) their plan allows."""
    return dataclasses.replace(sessions, catalog=catalog)


Sessions = Annotated[SessionsService, Depends(_caller_sessions)]


async def _owned_session(
    session_id: str, principal: CurrentPrincipal, sessions: Sessions
) -> SessionRecord:
    return await sessions.owned(principal, session_id)


async def _readable_session(
    session_id: str, principal: CurrentPrincipal, sessions: Sessions
) -> SessionRecord:
    return await sessions.readable(principal, session_id)


OwnedSessionRecord = Annotated[SessionRecord, Depends(_owned_session)]
ReadableSessionRecord = Annotated[SessionRecord, Depends(_readable_session)]


async def _owned_session_write(
    session: OwnedSessionRecord, principal: CurrentPrincipal, limiter: Limiter
) -> SessionRecord:
    """The caller's own session, for a write that counts against the request limit (once the
    session is known to be theirs: anyone else's is 404 whatever their count)."""
    await limiter.check(principal.user_id)
    return session


OwnedSessionWrite = Annotated[SessionRecord, Depends(_owned_session_write)]
