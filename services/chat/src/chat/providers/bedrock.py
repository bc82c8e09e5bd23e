"""AWS Bedrock through boto3's ConverseStream.

boto3 is blocking, so each call runs in a worker thread of a bounded pool and hands events
to the event loop through a queue; the loop never waits on the network itself. Closing the
async iterator (a client went away) closes the HTTP stream under the worker and stops it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeAlias

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EventStreamError

from chat import metrics
from chat.config import ChatSettings, ModelConfig
from chat.providers.base import ProviderError, Turn, Usage

if TYPE_CHECKING:  # the stubs are a development dependency
    from botocore.eventstream import EventStream
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_bedrock_runtime.type_defs import (
        ConverseStreamOutputTypeDef,
        ConverseStreamRequestTypeDef,
    )

log = logging.getLogger(__name__)

_THROTTLED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"}


class _End:
    """Put on the queue once the worker is done."""


_END = _End()
# What the worker hands the event loop: an event, the failure that ended the call, the end.
_Handed: TypeAlias = "ConverseStreamOutputTypeDef | BaseException | _End"


def runtime_config(max_concurrency: int) -> Config:
    return Config(
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=max_concurrency,
        connect_timeout=5,
        read_timeout=120,
    )


class BedrockProvider:
    """``client`` and ``threads``, when given (a BYOK credential's client), are used instead
    of the platform's own client and a thread pool of its own: answers of every credential
    share the one pool of BEDROCK_MAX_STREAMS threads."""

    def __init__(
        self,
        settings: ChatSettings,
        *,
        max_concurrency: int = 256,
        client: BedrockRuntimeClient | None = None,
        threads: ThreadPoolExecutor | None = None,
    ) -> None:
        self._client: BedrockRuntimeClient = client or boto3.client(
            "bedrock-runtime",
            endpoint_url=settings.bedrock_endpoint_url or None,
            region_name=settings.aws_region,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            config=runtime_config(max_concurrency),
        )
        self._owns_threads = threads is None
        self.threads = threads or ThreadPoolExecutor(max_concurrency, thread_name_prefix="bedrock")

    def close(self) -> None:
        if self._owns_threads:
            self.threads.shutdown(wait=False, cancel_futures=True)
        else:
            self._client.close()

    async def stream(
        self, model: ModelConfig, turns: list[Turn], max_tokens: int, system: str | None = None
    ) -> AsyncIterator[str | Usage]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Handed] = asyncio.Queue()
        call = _StreamingCall(
            self._client, model.provider_model or model.id, turns, max_tokens, system
        )
        metrics.BEDROCK_STREAMS_WAITING.inc()
        worker = loop.run_in_executor(self.threads, call.run, loop, queue)
        stop_reason = None
        try:
            while not isinstance(item := await queue.get(), _End):
                if isinstance(item, BaseException):
                    raise _provider_error(item)
                if delta := item.get("contentBlockDelta"):
                    if text := delta["delta"].get("text"):
                        yield text
                elif stop := item.get("messageStop"):
                    stop_reason = stop.get("stopReason")
                elif metadata := item.get("metadata"):
                    usage = metadata["usage"]
                    yield Usage(usage["inputTokens"], usage["outputTokens"], stop_reason)
        finally:
            # Never wait for the worker here: a stalled model could keep it reading until the
            # read timeout. Cancelling unblocks it; it ends on its own thread.
            call.cancel()
            worker.add_done_callback(_log_worker_failure)


class _StreamingCall:
    """One ConverseStream call, run in a worker thread."""

    def __init__(
        self,
        client: BedrockRuntimeClient,
        model_id: str,
        turns: list[Turn],
        max_tokens: int,
        system: str | None,
    ) -> None:
        self._client = client
        self._request: ConverseStreamRequestTypeDef = {
            "modelId": model_id,
            "messages": [{"role": t.role, "content": [{"text": t.text}]} for t in turns],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
        if system:
            self._request["system"] = [{"text": system}]
        self._cancelled = threading.Event()
        self._stream: EventStream[ConverseStreamOutputTypeDef] | None = None
        self._lock = threading.Lock()

    def run(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Handed]) -> None:
        def hand_over(item: _Handed) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        metrics.BEDROCK_STREAMS_WAITING.dec()
        metrics.BEDROCK_STREAMS.inc()
        try:
            if self._cancelled.is_set():  # the answer was given up while waiting for a thread
                return
            stream = self._client.converse_stream(**self._request)["stream"]
            with self._lock:
                self._stream = stream
            if self._cancelled.is_set():
                return
            for event in stream:
                if self._cancelled.is_set():
                    return
                hand_over(event)
        except Exception as exc:
            if not self._cancelled.is_set():
                hand_over(exc)
        finally:
            self._close_stream()
            metrics.BEDROCK_STREAMS.dec()
            hand_over(_END)

    def cancel(self) -> None:
        """Stop the call from the event loop without blocking it.

        Closing the response here could wait for the worker's read (it holds the buffer's
        lock), so the socket is only shut down: that wakes the read at once, and the worker
        closes the response itself.
        """
        self._cancelled.set()
        with self._lock:
            stream = self._stream
        # botocore has no public way to reach the socket under an event stream.
        raw = getattr(stream, "_raw_stream", None)
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a half-read connection may complain; it is closed
                log.debug("closing a Bedrock stream raised", exc_info=True)


def _log_worker_failure(worker: asyncio.Future[None]) -> None:
    if not worker.cancelled() and worker.exception() is not None:
        log.warning("a Bedrock worker failed", exc_info=worker.exception())


def _provider_error(exc: BaseException) -> ProviderError:
    if isinstance(exc, ClientError | EventStreamError):
        code = exc.response.get("Error", {}).get("Code", "")
        log.warning("bedrock error", extra={"errorCode": code, "error": str(exc)})
        if code in _THROTTLED:
            return ProviderError("The model is busy; try again shortly", code="provider_throttled")
        return ProviderError("The model failed to answer", code="provider_error")
    if isinstance(exc, BotoCoreError):
        log.warning("bedrock unreachable", extra={"error": repr(exc)})
        return ProviderError("The model is unreachable", code="provider_unavailable")
    log.error("unexpected bedrock failure", exc_info=exc)
    return ProviderError("The model failed to answer", code="provider_error")
