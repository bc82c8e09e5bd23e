"""Which headers cross the gateway: request ids, X-Forwarded-*, Host, hop-by-hop."""

from gateway.proxy.headers import request_headers, response_headers

from ..conftest import header_values


async def test_the_clients_request_id_is_echoed_and_passed_to_the_service(http, gateway):
    response = await http.get(f"{gateway}/api/chat/sessions", headers={"X-Request-ID": "req-42"})
    assert response.headers.get_list("x-request-id") == ["req-42"]
    assert header_values(response.json(), "x-request-id") == ["req-42"]


async def test_without_one_the_gateway_mints_the_id_the_service_sees(http, gateway):
    response = await http.get(f"{gateway}/api/credits/balance")
    (minted,) = response.headers.get_list("x-request-id")
    assert len(minted) >= 16
    assert header_values(response.json(), "x-request-id") == [minted]


async def test_an_insane_request_id_is_replaced(http, gateway):
    response = await http.get(
        f"{gateway}/api/models", headers={"X-Request-ID": "bad id with spaces"}
    )
    (minted,) = response.headers.get_list("x-request-id")
    assert minted != "bad id with spaces"
    assert header_values(response.json(), "x-request-id") == [minted]


async def test_host_is_rewritten_and_forwarded_headers_are_set(http, gateway, upstreams):
    response = await http.get(
        f"{gateway}/api/auth/me", headers={"Authorization": "Bearer a.b.c", "Cookie": "k=v"}
    )
    echoed = response.json()
    upstream_host = upstreams["auth"].url.removeprefix("http://")
    gateway_host = gateway.removeprefix("http://")
    assert header_values(echoed, "host") == [upstream_host]
    assert header_values(echoed, "x-forwarded-host") == [gateway_host]
    assert header_values(echoed, "x-forwarded-proto") == ["http"]
    assert header_values(echoed, "x-forwarded-for") == ["127.0.0.1"]
    # End-to-end headers pass unchanged; the gateway adds none of its HTTP client's defaults.
    assert header_values(echoed, "authorization") == ["Bearer a.b.c"]
    assert header_values(echoed, "cookie") == ["k=v"]
    assert header_values(echoed, "user-agent") == [f"python-httpx/{_httpx_version()}"]


async def test_hop_by_hop_request_headers_are_not_forwarded(http, gateway):
    response = await http.get(
        f"{gateway}/api/chat/sessions",
        headers={
            "Connection": "keep-alive, X-Client-Hop",
            "X-Client-Hop": "connection-scoped",
            "Keep-Alive": "timeout=30",
            "TE": "trailers",
            "Trailer": "X-Checksum",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "Proxy-Connection": "keep-alive",
            "X-End-To-End": "kept",
        },
    )
    echoed = response.json()
    received = {name for name, _ in echoed["headers"]}
    for hop in (
        "x-client-hop",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
    ):
        assert hop not in received, hop
    assert header_values(echoed, "x-end-to-end") == ["kept"]


async def test_hop_by_hop_response_headers_are_not_returned(http, gateway):
    response = await http.get(f"{gateway}/api/chat/_test/hop")
    assert response.status_code == 200
    for hop in ("x-upstream-hop", "keep-alive", "proxy-authenticate"):
        assert hop not in response.headers, hop
    assert response.headers.get("connection", "keep-alive") == "keep-alive"
    assert response.headers["x-end-to-end"] == "kept"
    assert len(response.headers.get_list("set-cookie")) == 2
    # Our own server's Date and Server, once each, and our one request id.
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1
    assert len(response.headers.get_list("x-request-id")) == 1


def test_forwarded_for_is_the_client_the_gateway_determined():
    incoming = [
        (b"host", b"gw:8080"),
        (b"x-forwarded-for", b"203.0.113.9"),
        (b"x-forwarded-proto", b"https"),
        (b"x-forwarded-host", b"api.example.com"),
        (b"x-real-ip", b"203.0.113.9"),
    ]
    untrusted = request_headers(incoming, request_id="r", client_host="10.0.0.2", scheme="http")
    assert _values(untrusted) == {
        b"x-forwarded-for": [b"10.0.0.2"],
        b"x-forwarded-proto": [b"http"],
        b"x-forwarded-host": [b"gw:8080"],
        b"x-request-id": [b"r"],
    }
    trusted = request_headers(
        incoming,
        request_id="r",
        client_host="203.0.113.9",
        scheme="http",
        from_trusted_proxy=True,
    )
    assert _values(trusted) == {
        b"x-forwarded-for": [b"203.0.113.9"],
        b"x-forwarded-proto": [b"https"],
        b"x-forwarded-host": [b"api.example.com"],
        b"x-real-ip": [b"203.0.113.9"],
        b"x-request-id": [b"r"],
    }
    # Even a trusted proxy's X-Forwarded-Proto is only ever http or https.
    odd = request_headers(
        [(b"x-forwarded-proto", b"javascript")],
        request_id="r",
        client_host=None,
        scheme="http",
        from_trusted_proxy=True,
    )
    assert _values(odd)[b"x-forwarded-proto"] == [b"http"]


def test_internal_headers_are_dropped_whoever_sends_them():
    incoming = [
        (b"X-On-Behalf-Of", b"someone-elses-token"),
        (b"x-internal-token", b"guessed"),
        (b"accept", b"*/*"),
    ]
    for trusted in (False, True):
        out = request_headers(
            incoming,
            request_id="r",
            client_host="1.2.3.4",
            scheme="http",
            from_trusted_proxy=trusted,
        )
        names = {name for name, _ in out}
        assert b"x-on-behalf-of" not in names and b"x-internal-token" not in names
        assert b"accept" in names


async def test_a_clients_internal_and_proxy_headers_never_reach_the_service(http, gateway):
    response = await http.get(
        f"{gateway}/api/credits/balance",
        headers={
            "X-On-Behalf-Of": "Bearer eyJ.someone.else",
            "X-Internal-Token": "dev-internal-token",
            "X-Forwarded-For": "10.9.8.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Real-IP": "10.9.8.7",
        },
    )
    assert response.status_code == 200
    echoed = response.json()
    assert header_values(echoed, "x-on-behalf-of") == []
    assert header_values(echoed, "x-internal-token") == []
    assert header_values(echoed, "x-real-ip") == []
    assert header_values(echoed, "x-forwarded-for") == ["127.0.0.1"]  # the peer
    assert header_values(echoed, "x-forwarded-proto") == ["http"]
    assert header_values(echoed, "x-forwarded-host") == [gateway.removeprefix("http://")]


async def test_a_trusted_proxys_forwarded_headers_are_passed_on(http, start_gateway):
    async with start_gateway(trusted_proxies="127.0.0.0/8") as url:
        response = await http.get(
            f"{url}/api/credits/balance",
            headers={
                "X-Forwarded-For": "198.51.100.1, 203.0.113.5, 127.0.0.2",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "api.example.com",
                "X-Real-IP": "203.0.113.5",
                "X-On-Behalf-Of": "Bearer eyJ.someone.else",
            },
        )
    echoed = response.json()
    # The right-most address that is not a trusted proxy's.
    assert header_values(echoed, "x-forwarded-for") == ["203.0.113.5"]
    assert header_values(echoed, "x-forwarded-proto") == ["https"]
    assert header_values(echoed, "x-forwarded-host") == ["api.example.com"]
    assert header_values(echoed, "x-real-ip") == ["203.0.113.5"]
    assert header_values(echoed, "x-on-behalf-of") == []


def _values(headers):
    found = {}
    for name, value in headers:
        found.setdefault(name, []).append(value)
    return found


def test_authorization_is_replaced_when_given():
    incoming = [(b"authorization", b"Bearer sk-secret"), (b"accept", b"*/*")]
    out = request_headers(
        incoming, request_id="r", client_host=None, scheme="http", authorization="Bearer jwt"
    )
    assert [v for k, v in out if k == b"authorization"] == [b"Bearer jwt"]
    assert b"sk-secret" not in b"".join(v for _, v in out)


def test_response_headers_drop_what_the_gateway_sets_itself():
    upstream = [
        (b"Content-Type", b"text/event-stream"),
        (b"Transfer-Encoding", b"chunked"),
        (b"X-Request-ID", b"r"),
        (b"Date", b"x"),
        (b"Server", b"uvicorn"),
        (b"Connection", b"close, X-Secret"),
        (b"X-Secret", b"1"),
        (b"Proxy-Anything", b"1"),
    ]
    assert response_headers(upstream) == [(b"content-type", b"text/event-stream")]


def _httpx_version() -> str:
    import httpx

    return httpx.__version__
