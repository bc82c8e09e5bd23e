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
_REQUEST_REPLACED = frozenset(
    {
        b"host",
        b"x-request-id",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"expect",
    }
)

# Set by the gateway's own server and middleware on the way out (else they would appear twice).
_RESPONSE_REPLACED = frozenset({b"x-request-id", b"date", b"server"})


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
) -> RawHeaders:
    """What the upstream receives: end-to-end headers, plus X-Request-ID and X-Forwarded-*.

    ``authorization`` replaces the client's Authorization (an API key exchanged for a JWT).
    """
    declared = _connection_tokens(incoming)
    forwarded_for: list[str] = []
    host: bytes | None = None
    out: RawHeaders = []
    for raw_name, value in incoming:
        name = raw_name.lower()
        if name == b"x-forwarded-for":
            forwarded_for.extend(
                hop.strip() for hop in value.decode("latin-1").split(",") if hop.strip()
            )
        elif name == b"host":
            host = value
        if _is_hop_by_hop(name, declared) or name in _REQUEST_REPLACED:
            continue
        if authorization is not None and name == b"authorization":
            continue
        out.append((name, value))
    if authorization is not None:
        out.append((b"authorization", authorization.encode("latin-1")))
    # Append the address we received the request from, unless our server already took it from
    # a trusted proxy's X-Forwarded-For (then it is that list's last entry).
    if client_host and (not forwarded_for or forwarded_for[-1] != client_host):
        forwarded_for.append(client_host)
    if forwarded_for:
        out.append((b"x-forwarded-for", ", ".join(forwarded_for).encode("latin-1")))
    out.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    if host:
        out.append((b"x-forwarded-host", host))
    out.append((b"x-request-id", request_id.encode("latin-1")))
    return out


def response_headers(upstream: RawHeaders) -> RawHeaders:
    """What the client receives from the upstream's response: its end-to-end headers."""
    declared = _connection_tokens(upstream)
    return [
        (name.lower(), value)
        for name, value in upstream
        if not _is_hop_by_hop(name.lower(), declared) and name.lower() not in _RESPONSE_REPLACED
    ]
