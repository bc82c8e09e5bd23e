"""The OpenAI-compatible side of the probe, over httpx: ``GET /models`` and a one-token
chat completion, with the probe's timeout."""

import httpx

from chat.config import ChatSettings, ModelConfig
from chat.model_health.status import ProbeError


class OpenAIProbe:
    provider = "openai"

    def __init__(
        self,
        settings: ChatSettings,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=settings.openai_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {settings.openai_api_key}"},
            timeout=timeout,
            transport=transport,
        )

    async def list_models(self) -> list[str]:
        response = await self._send("GET", "models")
        try:
            return [str(model["id"]) for model in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProbeError("the model list is not OpenAI's format") from exc

    async def call(self, model: ModelConfig) -> None:
        await self._send(
            "POST",
            "chat/completions",
            json={
                "model": model.provider_model or model.id,
                "messages": [{"role": "user", "content": "ping"}],
                "max_tokens": 1,
            },
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, method: str, path: str, json: object = None) -> httpx.Response:
        try:
            response = await self._client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ProbeError(f"the server did not answer: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise ProbeError("the server throttled it (HTTP 429)", throttled=True)
        if response.status_code != 200:
            raise ProbeError(f"the server refused it (HTTP {response.status_code})")
        return response
