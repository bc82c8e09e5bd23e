"""Bedrock's side of the probe, through boto3: ``ListFoundationModels`` on the ``bedrock``
control plane and a one-token ``Converse`` on ``bedrock-runtime``.

boto3 blocks, so each call runs in a thread of the probe's own small pool (answers stream
through aiobotocore on the event loop, ``chat.providers.bedrock``); no retries, and the
timeouts are the probe's. One replica probes per interval (a claim in Redis), whatever the
number of replicas and WORKERS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from chat.config import ChatSettings, ModelConfig
from chat.model_health.status import ProbeError

if TYPE_CHECKING:  # the stubs are a development dependency
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

T = TypeVar("T")

_THROTTLED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"}
_THREADS = 8  # the catalog's models are probed at once; more wait their turn


class BedrockProbe:
    provider = "bedrock"

    def __init__(self, settings: ChatSettings, *, timeout: float) -> None:
        # A session of its own: boto3's default one is not safe to share between threads.
        session = boto3.session.Session(
            region_name=settings.aws_region,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
        )
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=timeout,
            read_timeout=timeout,
            max_pool_connections=_THREADS,
        )
        runtime_url = settings.bedrock_endpoint_url or None
        control_url = settings.bedrock_control_endpoint_url
        self._control: BedrockClient = session.client(
            "bedrock",
            endpoint_url=runtime_url if control_url is None else (control_url or None),
            config=config,
        )
        self._runtime: BedrockRuntimeClient = session.client(
            "bedrock-runtime", endpoint_url=runtime_url, config=config
        )
        self._threads = ThreadPoolExecutor(_THREADS, thread_name_prefix="model-probe")

    async def list_models(self) -> list[str]:
        page = await self._run(self._control.list_foundation_models)
        return [summary["modelId"] for summary in page["modelSummaries"]]

    async def call(self, model: ModelConfig) -> None:
        def converse() -> object:
            return self._runtime.converse(
                modelId=model.provider_model or model.id,
                messages=[{"role": "user", "content": [{"text": "ping"}]}],
                inferenceConfig={"maxTokens": 1},
            )

        await self._run(converse)

    async def aclose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def _run(self, call: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, call)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            throttled = code in _THROTTLED
            what = "throttled" if throttled else "refused"
            reason = f"Bedrock {what} it: {code} (HTTP {status})"
            raise ProbeError(reason, throttled=throttled) from exc
        except BotoCoreError as exc:
            raise ProbeError(f"Bedrock did not answer: {type(exc).__name__}") from exc
