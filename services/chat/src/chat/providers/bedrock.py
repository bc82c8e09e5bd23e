"""AWS Bedrock's ConverseStream, called over async HTTP on the event loop.

The request is signed with botocore's SigV4 signer (and its credential chain, unless keys are
configured) and the answer's AWS event stream is decoded here: no thread per stream, and a
few microseconds a token where boto3's parser took hundreds. Closing the async iterator (a
client went away) closes the HTTP stream.
"""

import asyncio
import itertools
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import get_session

from chat.config import ChatSettings, ModelConfig
from chat.providers.aws_event_stream import EventStreamDecoder, EventStreamError, Message
from chat.providers.base import ProviderError, Turn, Usage

log = logging.getLogger(__name__)

_THROTTLED = {"throttlingexception", "servicequotaexceededexception", "toomanyrequestsexception"}
_RETRIED_STATUSES = {429, 500, 502, 503, 504}
_ATTEMPTS = 2  # as boto3's standard retry mode: one more try when the call could not start
# httpcore walks every connection of a pool for each request it starts or ends: streams are
# spread over several small pools rather than one of thousands of connections.
_POOLS = 32


class BedrockProvider:
    def __init__(
        self, settings: ChatSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        region = settings.aws_region
        self._endpoint = (
            settings.bedrock_endpoint_url or f"https://bedrock-runtime.{region}.amazonaws.com"
        ).rstrip("/")
        self._region = region
        if settings.aws_access_key_id and settings.aws_secret_access_key:
            self._static: Credentials | None = Credentials(
                settings.aws_access_key_id, settings.aws_secret_access_key
            )
            self._chain = None
        else:  # the environment, a profile, the instance's or the task's role
            self._static, self._chain = None, get_session().get_credentials()
        self._clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(connect=5, read=120, write=30, pool=30),
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=16),
                transport=transport,
            )
            for _ in range(1 if transport else _POOLS)
        ]
        self._next_client = itertools.cycle(self._clients)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        body: dict[str, Any] = {
            "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
        if system:
            body["system"] = [{"text": system}]
        model_id = quote(model.provider_model or model.id, safe="")
        url = f"{self._endpoint}/model/{model_id}/converse-stream"
        content = json.dumps(body).encode()
        try:
            response = await self._open(url, content)
            try:
                async for item in _answer(response):
                    yield item
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            log.warning("bedrock unreachable", extra={"error": repr(exc)})
            raise ProviderError("The model is unreachable", code="provider_unavailable") from exc
        except (EventStreamError, json.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("bedrock sent an invalid stream", extra={"error": repr(exc)})
            raise ProviderError("The model sent an invalid answer") from exc

    async def _open(self, url: str, content: bytes) -> httpx.Response:
        """The streamed response, once its status is 200 (retried once, like boto3)."""
        client = next(self._next_client)
        for attempt in range(1, _ATTEMPTS + 1):
            last = attempt == _ATTEMPTS
            try:
                request = client.build_request(
                    "POST", url, content=content, headers=await self._signed(url, content)
                )
                response = await client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError):
                # Also a kept-alive connection the server had closed: nothing was answered.
                if last:
                    raise
            else:
                if response.status_code == 200:
                    return response
                await response.aread()
                await response.aclose()
                if last or response.status_code not in _RETRIED_STATUSES:
                    raise _status_error(response)
            await asyncio.sleep(random.uniform(0, 0.5))
        raise AssertionError("unreachable")

    async def _signed(self, url: str, content: bytes) -> dict[str, str]:
        credentials = self._static
        if credentials is None:
            if self._chain is None:
                raise ProviderError("No AWS credentials", code="provider_unavailable")
            # Refreshing may call the network (a role's endpoint): never on the event loop.
            frozen = await asyncio.to_thread(self._chain.get_frozen_credentials)
            credentials = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
        request = AWSRequest(
            method="POST",
            url=url,
            data=content,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/vnd.amazon.eventstream",
            },
        )
        SigV4Auth(credentials, "bedrock", self._region).add_auth(request)
        return dict(request.headers.items())


async def _answer(response: httpx.Response) -> AsyncIterator[str | Usage]:
    decoder = EventStreamDecoder()
    stop_reason = None
    async for data in response.aiter_raw():
        for message in decoder.feed(data):
            headers = message.headers
            kind = headers.get(":message-type")
            if kind != "event":
                raise _stream_error(message)
            event_type = headers.get(":event-type")
            if event_type == "contentBlockDelta":
                if text := json.loads(message.payload)["delta"].get("text"):
                    yield text
            elif event_type == "messageStop":
                stop_reason = json.loads(message.payload).get("stopReason")
            elif event_type == "metadata":
                usage = json.loads(message.payload)["usage"]
                yield Usage(usage["inputTokens"], usage["outputTokens"], stop_reason)
    if decoder.pending:
        raise EventStreamError("the stream ended inside a message")


def _error(code: str, detail: str) -> ProviderError:
    log.warning("bedrock error", extra={"errorCode": code, "error": detail})
    if code.lower() in _THROTTLED:
        return ProviderError("The model is busy; try again shortly", code="provider_throttled")
    return ProviderError("The model failed to answer", code="provider_error")


def _status_error(response: httpx.Response) -> ProviderError:
    code = response.headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
    try:
        body = response.json()
        code = code or str(body.get("__type", "")).rsplit("#", 1)[-1]
        detail = str(body.get("message") or body.get("Message") or "")
    except ValueError:
        detail = response.text[:300]
    return _error(code or f"HTTP {response.status_code}", detail)


def _stream_error(message: Message) -> ProviderError:
    """An exception (or error) the model sent in the stream instead of the next event."""
    headers = message.headers
    code = headers.get(":exception-type") or headers.get(":error-code") or "unknown"
    detail = headers.get(":error-message") or message.payload[:300].decode(errors="replace")
    return _error(code, detail)
