"""A client for one peer service, the one way every service calls another.

Each request carries this service's own token (``Authorization``) and, when it acts for a
user, the user's token in ``X-On-Behalf-Of``; routes a user may call themselves are called with
the user's token alone (``user_token=``). A call may add headers of its own (``headers=``: an
``Idempotency-Key``, say), never one the client sets itself. The request id of the request
being served goes along, path segments are URL-encoded (a login like ``a/../b`` stays one
segment), and a peer that cannot be reached is a 503 ``<peer>_unavailable`` with
``Retry-After``, never a 500. A token the peer refuses (auth rotated its keys) is renewed and
the call made once more.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from service_client.tokens import ServiceTokenError, TokenSource
from service_client.upstream import RawHeaders, Timeouts, UpstreamError, UpstreamPool
from service_kit import ApiError
from service_kit.request_context import request_id_var

log = logging.getLogger(__name__)

ON_BEHALF_OF_HEADER = b"x-on-behalf-of"
RETRY_AFTER_SECONDS = 5
# What the client (or its pool's framing) sends itself: a call's own headers may not add them.
OWN_HEADERS = frozenset(
    {
        "authorization",
        "accept",
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
        "x-request-id",
        ON_BEHALF_OF_HEADER.decode(),
    }
)


def peer_unavailable(peer: str) -> ApiError:
    return ApiError(
        503,
        f"{peer}_unavailable",
        f"The {peer} service is unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@dataclass(frozen=True)
class PeerReply:
    status: int
    headers: RawHeaders
    body: bytes
    path: str

    def json(self) -> Any:
        """The body as JSON; None when it is not (an error page from a proxy, say)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self, limit: int = 500) -> str:
        return self.body[:limit].decode(errors="replace")


def _token_refused(reply: PeerReply) -> bool:
    """A 401 about the token itself (the envelope's ``invalid_token``), not about what the call
    carried (an API key refused as ``invalid_api_key``, say)."""
    if reply.status != 401:
        return False
    body = reply.json()
    return isinstance(body, dict) and body.get("code") == "invalid_token"


def extra_headers(headers: Mapping[str, str] | None) -> RawHeaders:
    """A call's own headers, raw; a name the client sets itself, or a line break, is refused
    (``ValueError``): a caller's value never replaces the token or splits the request."""
    raw: RawHeaders = []
    for name, value in (headers or {}).items():
        if name.lower() in OWN_HEADERS:
            raise ValueError(f"the service client sets {name} itself")
        if any(c in f"{name}{value}" for c in "\r\n\0"):
            raise ValueError(f"a line break in the header {name!r}")
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return raw


def encode_path(template: str, segments: tuple[str, ...]) -> str:
    """``template`` with each ``{}`` replaced by one URL-encoded segment."""
    return template.format(*(quote(str(segment), safe="") for segment in segments))


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        peer: str,
        tokens: TokenSource | None,
        *,
        timeout_seconds: float = 10.0,
        max_connections: int = 50,
    ) -> None:
        self.peer = peer
        self._tokens = tokens
        self._base = urlsplit(base_url).path.rstrip("/")
        self._pool = UpstreamPool(
            base_url,
            Timeouts(connect=5, read=timeout_seconds, write=timeout_seconds, pool=5),
            max_connections=max_connections,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def request(
        self,
        method: str,
        template: str,
        *segments: str,
        json_body: Any = None,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        on_behalf_of: str | None = None,
        user_token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> PeerReply:
        """Call ``template`` (``{}`` for each segment) as this service, or with ``user_token``
        alone for a route users call themselves. ``params`` as pairs may repeat a name.
        ``headers`` go along as given; one the client sets itself is a ``ValueError``."""
        path = encode_path(template, segments)
        if params:
            path = f"{path}?{urlencode(params)}"
        body = None if json_body is None else json.dumps(json_body).encode()
        extra = extra_headers(headers)
        token = user_token if user_token is not None else await self._service_token()
        reply = await self._send(method, path, body, token, on_behalf_of, extra)
        if user_token is None and self._tokens is not None and _token_refused(reply):
            self._tokens.invalidate(token)
            token = await self._service_token()
            reply = await self._send(method, path, body, token, on_behalf_of, extra)
        return reply

    def unexpected(self, reply: PeerReply) -> ApiError:
        log.error(
            "unexpected answer from a peer service",
            extra={
                "peer": self.peer,
                "path": reply.path,
                "status": reply.status,
                "body": reply.text(),
            },
        )
        return ApiError(502, "upstream_error", f"The {self.peer} service answered unexpectedly")

    async def _service_token(self) -> str:
        if self._tokens is None:
            raise RuntimeError(f"no service credentials to call {self.peer} as this service")
        try:
            return await self._tokens.token()
        except ServiceTokenError as exc:
            log.error("no service token", extra={"peer": self.peer, "error": str(exc)})
            raise peer_unavailable("auth" if exc.unavailable else self.peer) from exc

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        token: str,
        on_behalf_of: str | None,
        extra: RawHeaders,
    ) -> PeerReply:
        headers: RawHeaders = [
            (b"authorization", f"Bearer {token}".encode()),
            (b"accept", b"application/json"),
            *extra,
        ]
        if on_behalf_of is not None:
            headers.append((ON_BEHALF_OF_HEADER, f"Bearer {on_behalf_of}".encode()))
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        request_id = request_id_var.get()
        if request_id:
            headers.append((b"x-request-id", request_id.encode()))
        try:
            reply = await self._pool.fetch(method, (self._base + path).encode(), headers, body)
        except UpstreamError as exc:
            log.warning(
                "peer service unreachable",
                extra={"peer": self.peer, "path": path, "error": repr(exc)},
            )
            raise peer_unavailable(self.peer) from exc
        return PeerReply(reply.status, reply.headers, reply.body, path)
