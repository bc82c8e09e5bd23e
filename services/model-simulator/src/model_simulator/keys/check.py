"""An ASGI middleware that checks the credential of every provider request before its route:
a wrong key is refused in the provider's own format (OpenAI and Anthropic 401, Bedrock 403
``UnrecognizedClientException``), and every provider request is recorded by key fingerprint.

A request is Anthropic's when it comes with ``x-api-key`` or ``anthropic-version`` (the
``anthropic`` SDK from 2.0 sends its API key as ``Authorization: Bearer``, with the version
header)."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from model_simulator.keys.record import KeyKind, RequestRecords
from model_simulator.keys.rules import KeyRules, fingerprint, sigv4_access_key_id

_UNCHECKED = ("/api/health", "/metrics", "/sim/", "/docs", "/openapi.json")


class KeyCheck:
    def __init__(self, app: ASGIApp, rules: KeyRules, records: RequestRecords) -> None:
        self._app = app
        self._rules = rules
        self._records = records

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_UNCHECKED):
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        kind, key, valid = self._judge(headers)
        self._records.add(
            scope["method"], path, kind, None if key is None else fingerprint(key), valid
        )
        if valid:
            await self._app(scope, receive, send)
            return
        status, body, extra = _refusal(kind, anthropic="anthropic-version" in headers)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    def _judge(self, headers: dict[str, str]) -> tuple[KeyKind | None, str | None, bool]:
        authorization = headers.get("authorization", "")
        if (key_id := sigv4_access_key_id(authorization)) is not None:
            return "sigv4", key_id, self._rules.access_key_id_valid(key_id)
        if authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
            return "bearer", key, self._rules.api_key_valid(key)
        if (api_key := headers.get("x-api-key")) is not None:
            return "x-api-key", api_key, self._rules.api_key_valid(api_key)
        return None, None, True


def _refusal(
    kind: KeyKind | None, *, anthropic: bool
) -> tuple[int, object, list[tuple[bytes, bytes]]]:
    if kind == "sigv4":
        message = "The security token included in the request is invalid."
        return 403, {"message": message}, [(b"x-amzn-errortype", b"UnrecognizedClientException")]
    if kind == "x-api-key" or anthropic:
        message = "invalid x-api-key" if kind == "x-api-key" else "invalid bearer token"
        detail = {"type": "authentication_error", "message": message}
        return 401, {"type": "error", "error": detail}, []
    error: dict[str, str | None] = {
        "message": "Incorrect API key provided.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    return 401, {"error": error}, []
