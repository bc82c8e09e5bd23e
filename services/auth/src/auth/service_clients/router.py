"""``POST /api/auth/token``: services trade their client id and secret for a service token."""

import json
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response

from auth.service_clients.schemas import ServiceTokenResponse
from auth.service_clients.service import ServiceClientsService, basic_credentials, oauth_error
from service_kit import app_state, error_responses

Clients = Annotated[ServiceClientsService, Depends(app_state("service_clients"))]

router = APIRouter(prefix="/api/auth", tags=["service identity"])

_FORM_SCHEMA = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "description": "Space-separated subset of the client's"},
        "client_id": {"type": "string", "description": "Instead of HTTP Basic"},
        "client_secret": {"type": "string", "description": "Instead of HTTP Basic"},
    },
}
MAX_BODY_BYTES = 4096


@router.post(
    "/token",
    summary="A service token for a service's client id and secret (OAuth 2.0 client "
    "credentials, RFC 6749 §4.4; HTTP Basic or client_id/client_secret in the body; form or "
    "JSON)",
    responses=error_responses(400, 401, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
                "application/json": {"schema": _FORM_SCHEMA},
            },
        }
    },
)
async def token(request: Request, response: Response, clients: Clients) -> ServiceTokenResponse:
    fields = await _fields(request)
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is None and "client_id" in fields:
        credentials = (fields["client_id"], fields.get("client_secret", ""))
    response.headers["Cache-Control"] = "no-store"
    return clients.grant(
        grant_type=fields.get("grant_type"),
        credentials=credentials,
        requested_scope=fields.get("scope"),
    )


async def _fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise oauth_error(413, "payload_too_large", "The token request is too large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    pairs: Iterable[tuple[object, object]]
    try:
        if content_type == "application/json":
            parsed: Any = json.loads(body or b"{}")
            if not isinstance(parsed, dict):
                raise ValueError("not an object")
            pairs = parsed.items()
        else:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, UnicodeDecodeError):
        raise oauth_error(400, "invalid_request", "The token request is malformed") from None
    fields: dict[str, str] = {}
    for name, value in {str(k): v for k, v in pairs}.items():
        if not isinstance(value, str) or "\x00" in value:
            raise oauth_error(400, "invalid_request", "Every field must be a string")
        fields[name] = value
    return fields
