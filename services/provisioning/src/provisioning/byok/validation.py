"""``validate``: the provider's cheapest authenticated call, made with the stored credential.

OpenAI and OpenAI-compatible servers: ``GET {baseUrl}/v1/models`` with the bearer key;
Anthropic: ``GET /v1/models`` with ``x-api-key``; Bedrock: ``ListFoundationModels`` signed
with the AWS keys (boto3, in a thread: it blocks). Redirects are not followed, and nothing the
provider answers is passed on but its status.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from provisioning.byok.schemas import AwsCredentials, Validation

log = logging.getLogger(__name__)

ANTHROPIC_VERSION = "2023-06-01"
_REFUSED = (401, 403)


@dataclass(frozen=True)
class ProviderEndpoints:
    openai: str
    anthropic: str
    bedrock: str | None
    timeout: float


class Validator:
    def __init__(
        self, endpoints: ProviderEndpoints, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._endpoints = endpoints
        self._http = httpx.AsyncClient(
            timeout=endpoints.timeout, follow_redirects=False, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def base_url_of(self, provider: str, own: str | None) -> str | None:
        """Where the provider is called: an OpenAI-compatible server's own root, else the
        configured endpoint (null: AWS's own for Bedrock)."""
        if provider == "openai-compatible":
            return own
        if provider == "openai":
            return self._endpoints.openai.rstrip("/")
        if provider == "anthropic":
            return self._endpoints.anthropic.rstrip("/")
        return self._endpoints.bedrock.rstrip("/") if self._endpoints.bedrock else None

    async def api_key(self, provider: str, base_url: str, api_key: str) -> Validation:
        if provider == "anthropic":
            headers = {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}
        else:
            headers = {"Authorization": f"Bearer {api_key}"}
        try:
            response = await self._http.get(f"{base_url}/v1/models", headers=headers)
        except httpx.HTTPError as exc:
            log.info("byok validation: provider unreachable", extra={"error": type(exc).__name__})
            return _result(False, "The provider could not be reached", None)
        return _by_status(response.status_code)

    async def aws(self, credentials: AwsCredentials) -> Validation:
        return await asyncio.to_thread(self._list_foundation_models, credentials)

    def _list_foundation_models(self, credentials: AwsCredentials) -> Validation:
        client = boto3.client(
            "bedrock",
            endpoint_url=self._endpoints.bedrock or None,
            region_name=credentials.region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
            config=Config(
                retries={"max_attempts": 1},
                connect_timeout=self._endpoints.timeout,
                read_timeout=self._endpoints.timeout,
            ),
        )
        try:
            client.list_foundation_models()
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return _by_status(status if isinstance(status, int) else 500)
        except BotoCoreError as exc:
            log.info("byok validation: Bedrock unreachable", extra={"error": type(exc).__name__})
            return _result(False, "The provider could not be reached", None)
        finally:
            client.close()
        return _by_status(200)


def _by_status(status: int) -> Validation:
    if status == 200:
        return _result(True, "The provider accepted the credential", status)
    if status in _REFUSED:
        return _result(False, "The provider refused the credential", status)
    return _result(False, f"The provider answered HTTP {status}", status)


def _result(valid: bool, message: str, status: int | None) -> Validation:
    return Validation(
        valid=valid, message=message, provider_status=status, checked_at=datetime.now(UTC)
    )
