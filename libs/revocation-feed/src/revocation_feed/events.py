"""The bus events that revoke tokens, read as their ``bus_events`` models, failing closed.

A body its model refuses still revokes what it names, so that a malformed announcement never
leaves a token valid: a ``user.updated`` without a valid ``role`` or ``disabled`` still raises
the user's token version, and an ``api_key.revoked`` whose ``effectiveAt`` (or any other
field) does not fit revokes the key at once, not at a time that cannot be trusted. Each such
body is logged as a warning; one that does not even name whom it revokes is logged and
dropped.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError

from bus_events import ApiKeyRevoked, BusEvent, OrganizationDeleted, UserUpdated, body_of
from event_bus import Event, PermanentEventError
from jwt_contract import Revocations

log = logging.getLogger(__name__)

Body = TypeVar("Body", bound=BusEvent)
Named = TypeVar("Named", bound=BaseModel)


# What a refused body must still carry for its revocation to apply (any string names).
class _NamesUser(BaseModel):
    user_id: StrictStr = Field(alias="userId")
    token_version: StrictInt = Field(alias="tokenVersion")


class _NamesKey(BaseModel):
    key_id: StrictStr = Field(alias="keyId")


class _NamesOrganization(BaseModel):
    organization_id: StrictStr = Field(alias="organizationId")


def _read(event: Event, model: type[Body], names: type[Named]) -> Body | Named | None:
    """The body as ``model``; else as the ``names`` it still carries; else None."""
    try:
        return body_of(event, model)
    except PermanentEventError as refused:
        reason = str(refused)
    try:
        named = names.model_validate(event.body)
    except ValidationError:
        log.warning(
            "ignoring a revocation event that names nothing to revoke",
            extra={"eventType": event.type, "eventId": str(event.event_id), "error": reason},
        )
        return None
    log.warning(
        "revoking on a body that does not fit its model",
        extra={"eventType": event.type, "eventId": str(event.event_id), "error": reason},
    )
    return named


def _user_updated(revocations: Revocations, event: Event) -> bool:
    user = _read(event, UserUpdated, _NamesUser)
    if user is None:
        return False
    revocations.revoke_user_tokens(user.user_id, user.token_version)
    return True


def _api_key_revoked(revocations: Revocations, event: Event) -> bool:
    key = _read(event, ApiKeyRevoked, _NamesKey)
    if key is None:
        return False
    # Only a body that fits is trusted with a time to come; any other revokes at once.
    revocations.revoke_key(key.key_id, key.effective_at if isinstance(key, ApiKeyRevoked) else None)
    return True


def _organization_deleted(revocations: Revocations, event: Event) -> bool:
    organization = _read(event, OrganizationDeleted, _NamesOrganization)
    if organization is None:
        return False
    revocations.revoke_organization(organization.organization_id)
    return True


_APPLY: dict[str, Callable[[Revocations, Event], bool]] = {
    UserUpdated.routing_key: _user_updated,
    ApiKeyRevoked.routing_key: _api_key_revoked,
    OrganizationDeleted.routing_key: _organization_deleted,
}

REVOCATION_EVENTS = list(_APPLY)


def apply_event(revocations: Revocations, event: Event) -> bool:
    """Take in one bus event; whether it revoked anything (False for other events)."""
    apply = _APPLY.get(event.type)
    return apply is not None and apply(revocations, event)
