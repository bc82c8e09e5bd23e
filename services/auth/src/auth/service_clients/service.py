"""The client-credentials grant (RFC 6749 §4.4): a service's id and secret for a scoped token."""

import base64
import binascii
import hmac
import logging
from dataclasses import dataclass
from urllib.parse import unquote

from auth.service_clients.registry import ServiceClient
from auth.service_clients.schemas import ServiceTokenResponse
from jwt_contract import TokenSigner
from service_kit import ApiError

log = logging.getLogger(__name__)


def oauth_error(status: int, code: str, message: str) -> ApiError:
    headers = {"Cache-Control": "no-store"}
    if code == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="services"'
    return ApiError(status, code, message, headers=headers)


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """client_secret_basic: id and secret, each form-URL-encoded (RFC 6749 §2.3.1)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise oauth_error(401, "invalid_client", "Malformed client credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise oauth_error(401, "invalid_client", "Malformed client credentials")
    return unquote(client_id), unquote(secret)


@dataclass
class ServiceClientsService:
    clients: dict[str, ServiceClient]
    signer: TokenSigner
    ttl_seconds: int

    def grant(
        self,
        *,
        grant_type: str | None,
        credentials: tuple[str, str] | None,
        requested_scope: str | None,
    ) -> ServiceTokenResponse:
        if grant_type != "client_credentials":
            raise oauth_error(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is supported"
            )
        client = self._authenticate(credentials)
        scopes = client.scopes
        if requested_scope:
            asked = frozenset(requested_scope.split())
            if not asked <= client.scopes:
                raise oauth_error(400, "invalid_scope", "A requested scope is not this client's")
            scopes = asked
        token, _ = self.signer.issue_service(
            service=client.client_id, scopes=sorted(scopes), ttl_seconds=self.ttl_seconds
        )
        log.info("service token issued", extra={"clientId": client.client_id})
        return ServiceTokenResponse(
            access_token=token, expires_in=self.ttl_seconds, scope=" ".join(sorted(scopes))
        )

    def _authenticate(self, credentials: tuple[str, str] | None) -> ServiceClient:
        if credentials is None:
            raise oauth_error(401, "invalid_client", "Client credentials are required")
        client_id, secret = credentials
        client = self.clients.get(client_id)
        # Compared even for an unknown id, so timing does not tell which ids exist.
        expected = client.secret if client else "\x00unknown-client"
        if not hmac.compare_digest(secret.encode(), expected.encode()) or client is None:
            log.warning("refused client credentials", extra={"clientId": client_id[:64]})
            raise oauth_error(401, "invalid_client", "Unknown client or wrong secret")
        return client
