"""Request bodies over ``MAX_BODY_BYTES`` are ``413 payload_too_large``, in every service.

A declared ``Content-Length`` over the limit is refused before the app runs and before any of
the body is read. A body without one (chunked) is counted as the app reads it: the read that
takes it past the limit raises ``PayloadTooLarge``, an ``HTTPException``, so a route reading
its body (FastAPI's own parsing, ``request.body()``, ``request.stream()``) answers 413 through
the error handlers; should it escape the app before a response started, the 413 is sent here.
Nothing is buffered here, and responses (Server-Sent Events included) pass untouched.
"""

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class PayloadTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=f"The request body is larger than {max_bytes} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed, declared = _framing(scope)
        if not framed:
            # Neither Content-Length nor Transfer-Encoding: the request has no body (RFC 9112
            # section 6.3), so there is nothing to count and the app runs as it is.
            await self.app(scope, receive, send)
            return
        if declared is not None and declared > self.max_bytes:
            await _send_too_large(send, self.max_bytes)
            return
        max_bytes = self.max_bytes
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise PayloadTooLarge(max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except PayloadTooLarge:
            if response_started:
                raise
            await _send_too_large(send, max_bytes)


def _framing(scope: Scope) -> tuple[bool, int | None]:
    """(whether the request says it has a body: Content-Length or Transfer-Encoding, the
    declared length: None when there is none or it is not a number (the server frames such a
    request itself, and the body is counted as it is read))."""
    framed = False
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            value = value.strip()
            return True, int(value) if value.isdigit() else None
        if key == b"transfer-encoding":
            framed = True
    return framed, None


async def _send_too_large(send: Send, max_bytes: int) -> None:
    body = orjson.dumps({"message": PayloadTooLarge(max_bytes).detail, "code": "payload_too_large"})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
