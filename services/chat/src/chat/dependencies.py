"""Typed aliases for what routes receive."""

from typing import Annotated

from fastapi import Depends

from chat.catalog.catalog import ModelCatalog
from chat.observation.hub import ObserverHub
from chat.sessions.service import SessionsService
from chat.streaming.service import StreamService
from jwt_contract.dependencies import CurrentPrincipal
from service_kit import app_state

Sessions = Annotated[SessionsService, Depends(app_state("sessions"))]
Streams = Annotated[StreamService, Depends(app_state("streams"))]
Catalog = Annotated[ModelCatalog, Depends(app_state("catalog"))]
Observers = Annotated[ObserverHub, Depends(app_state("observers"))]


async def _owned_session(session_id: str, principal: CurrentPrincipal, sessions: Sessions) -> dict:
    return await sessions.owned(principal, session_id)


async def _readable_session(
    session_id: str, principal: CurrentPrincipal, sessions: Sessions
) -> dict:
    return await sessions.readable(principal, session_id)


OwnedSession = Annotated[dict, Depends(_owned_session)]
ReadableSession = Annotated[dict, Depends(_readable_session)]
