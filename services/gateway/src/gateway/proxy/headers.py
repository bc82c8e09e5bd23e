"""Which headers cross the gateway, in each direction (RFC 9110 section 7.6.1)."""

from collections.abc import Iterable

RawHeaders = list[tuple[bytes, bytes]]

# Meaningful for one connection only, never forwarded (plus whatever `Connection` names).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)

# Set by the gateway itself on the way in: the upstream's own Host, our request id, the
# X-Forwarded-* we compute. `Expect: 100-continue` is answered by our server, not the upstream's.
# X-On-Behalf-Of and X-Internal-Token are what services send each other: never a client's word.
_REQUEST_REPLACED = frozenset(
    {
        b"host",
        b"x-request-id",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"expect",
        b"x-on-behalf-of",
        b"x-internal-token",
    }
)
# What only a trusted proxy may say about the client (the X-Forwarded-* above are recomputed).
_PROXY_ONLY = frozenset({b"x-real-ip"})
_SCHEMES = frozenset({b"http", b"https"})

# Set by the gateway's own server and middleware on the way out (else they would appear twice).
_RESPONSE_REPLACED = frozenset({b"x-request-id", b"date", b"server"})
_RESPONSE_DROPPED = HOP_BY_HOP | _RESPONSE_REPLACED


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    """Header names a `Connection` header declares hop-by-hop."""
    names: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            names.update(token.strip().lower() for token in value.split(b",") if token.strip())
    return names


def _is_hop_by_hop(name: bytes, declared: set[bytes]) -> bool:
    return name in HOP_BY_HOP or name.startswith(b"proxy-") or name in declared


def request_headers(
    incoming: RawHeaders,
    *,
    request_id: str,
    client_host: str | None,
    scheme: str,
    authorization: str | None = None,
    from_trusted_proxy: bool = False,
) -> RawHeaders:
    """What the upstream receives: end-to-end headers, plus X-Request-ID and X-Forwarded-*.

    ``client_host`` is the client's address as the gateway determined it (``gateway.callers``),
    sent on as the one X-Forwarded-For entry: the services trust the gateway's word only, so
    whatever else the client wrote there never reaches them. The client's X-Forwarded-Proto,
    X-Forwarded-Host and X-Real-IP are kept only ``from_trusted_proxy``. ``authorization``
    replaces the client's Authorization (an API key exchanged for a JWT).
    """
    declared = _connection_tokens(incoming)
    proto = scheme.encode("latin-1")
    host: bytes | None = None
    forwarded_host: bytes | None = None
    out: RawHeaders = []
    for raw_name, value in incoming:
        name = raw_name.lower()
        if name == b"host":
            host = value
        elif from_trusted_proxy and name == b"x-forwarded-proto":
            said = value.strip().lower()
            proto = said if said in _SCHEMES else proto
        elif from_trusted_proxy and name == b"x-forwarded-host":
            forwarded_host = value
        if _is_hop_by_hop(name, declared) or name in _REQUEST_REPLACED:
            continue
        if (authorization is not None and name == b"authorization") or (
            name in _PROXY_ONLY and not from_trusted_proxy
        ):
            continue
        out.append((name, value))
    if authorization is not None:
        out.append((b"authorization", authorization.encode("latin-1")))
    if client_host:
        out.append((b"x-forwarded-for", client_host.encode("latin-1")))
    out.append((b"x-forwarded-proto", proto))
    if forwarded_host := forwarded_host or host:
        out.append((b"x-forwarded-host", forwarded_host))
    out.append((b"x-request-id", request_id.encode("latin-1")))
    return out


def response_headers(upstream: RawHeaders) -> RawHeaders:
    """What the client receives from the upstream's response: its end-to-end headers."""
    lowered = [(name.lower(), value) for name, value in upstream]
    declared = _connection_tokens(lowered)
    return [
        (name, value)
        for name, value in lowered
        if name not in _RESPONSE_DROPPED
        and not name.startswith(b"proxy-")
        and (not declared or name not in declared)
    ]
