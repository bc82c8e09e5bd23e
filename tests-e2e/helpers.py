"""What the end-to-end tests share: where the stack is, the demo users, small HTTP helpers."""

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
from httpx_sse import EventSource

AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:3000")
ACCOUNTING_URL = os.environ.get("ACCOUNTING_URL", "http://127.0.0.1:3001")
CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:3002")
PROVISIONING_URL = os.environ.get("PROVISIONING_URL", "http://127.0.0.1:3004")
GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")

# Which service owns a path (CONTRACT.md "Gateway routes"), for calling services directly.
OWNERS = {
    "/api/auth": AUTH_URL,
    "/api/credits": ACCOUNTING_URL,
    "/api/usage": ACCOUNTING_URL,
    "/api/streaming-sessions": ACCOUNTING_URL,
    "/api/chat": CHAT_URL,
    "/api/models": CHAT_URL,
    "/v1": CHAT_URL,
    "/api/organizations": PROVISIONING_URL,
    "/api/teams": PROVISIONING_URL,
    "/api/model-groups": PROVISIONING_URL,
    "/api/plans": PROVISIONING_URL,
    "/api/audit-logs": PROVISIONING_URL,
}
RABBITMQ_URL = os.environ.get("E2E_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
BUS_EXCHANGE = os.environ.get("E2E_BUS_EXCHANGE", "platform.events")

DEMO_USERS = {
    "admin": ("admin@admin", "admin"),
    "supervisor1": ("Supervisor1@", "supervisor"),
    "supervisor2": ("Supervisor2@", "supervisor"),
    "user1": ("User1@123", "enduser"),
    "user2": ("User2@123", "enduser"),
}


def login(client: httpx.Client, username: str, password: str | None = None) -> httpx.Response:
    password = password or DEMO_USERS[username][0]
    return client.post("/api/auth/login", json={"username": username, "password": password})


def tokens_for(client: httpx.Client, username: str) -> dict:
    response = login(client, username)
    assert response.status_code == 200, response.text
    return response.json()


def service_token(service: str) -> str:
    """A service's own token, as the service trades its (development) client secret for it."""
    response = httpx.post(
        f"{AUTH_URL}/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(service, f"dev-{service}-client-secret"),
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def exchange_key(key: str) -> httpx.Response:
    """What the gateway does with an ``sk-`` key: trade it at auth, as the gateway."""
    return httpx.post(
        f"{AUTH_URL}/internal/api-keys/exchange",
        json={"apiKey": key},
        headers=bearer(service_token("gateway")),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_user(client: httpx.Client, password: str = "E2e-Passw0rd!") -> dict:
    username = f"e2e{uuid.uuid4().hex[:12]}"
    response = client.post(
        "/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": password},
    )
    assert response.status_code == 201, response.text
    return response.json()


def onboarded_user(client: httpx.Client, password: str = "E2e-Passw0rd!") -> dict:
    """A new user once the default plan's grant, which reaches accounting over the bus after
    registration, is on their balance, so that later balance checks see no late arrival."""
    user = new_user(client, password)
    headers = bearer(user["accessToken"])
    deadline = time.monotonic() + 20
    while True:
        response = client.get("/api/credits/balance", headers=headers)
        if response.status_code == 200 and response.json()["totalCredits"] > 0:
            return user
        if time.monotonic() > deadline:
            raise AssertionError(f"the plan's grant never reached {user['user']['username']}")
        time.sleep(0.1)


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict, str | None]]:
    """(event, data, id) for each Server-Sent Event of a streamed response (httpx-sse)."""
    for sse in EventSource(response).iter_sse():
        if sse.data:
            yield sse.event, json.loads(sse.data), sse.id or None


class DirectRoutes(httpx.Client):
    """A client that sends each request to the service owning its path, on its own port:
    the same journeys as through the gateway, minus the gateway."""

    def __init__(self) -> None:
        super().__init__(timeout=30)

    def request(self, method: str, url, *args, **kwargs):  # type: ignore[override]
        return super().request(method, owner_url(str(url)), *args, **kwargs)

    def stream(self, method: str, url, *args, **kwargs):  # type: ignore[override]
        return super().stream(method, owner_url(str(url)), *args, **kwargs)


def owner_url(path: str) -> str:
    if path.startswith("http"):
        return path
    for prefix, base in OWNERS.items():
        if path == prefix or path.startswith((prefix + "/", prefix + "?")):
            return base + path
    raise ValueError(f"no service owns {path}")


def stream_observed(
    client: httpx.Client, session: str, user: dict, supervisor: dict, prompt: str
) -> tuple[list[tuple[str, dict, str | None]], list[tuple[str, dict]]]:
    """Stream one answer while a supervisor observes it; (user events, observed events)."""
    observed: list[tuple[str, dict]] = []
    joined = threading.Event()

    def observe():
        with client.stream("GET", f"/api/chat/sessions/{session}/observe", headers=supervisor) as r:
            for event, data, _ in sse_events(r):
                observed.append((event, data))
                joined.set()
                if event in ("complete", "error"):
                    return

    watcher = threading.Thread(target=observe, daemon=True)
    watcher.start()
    assert joined.wait(10), "the observer stream did not open"
    with client.stream(
        "POST", f"/api/chat/sessions/{session}/stream", json={"message": prompt}, headers=user
    ) as response:
        assert response.status_code == 200
        events = list(sse_events(response))
    watcher.join(15)
    return events, observed


def refused_within(path: str, token: str, seconds: float = 2.0) -> None:
    """GET ``path`` through the gateway with ``token`` until it answers 401, failing after
    ``seconds`` (revocation takes effect within a second at every entry: CONTRACT.md)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        while (status := client.get(path, headers=bearer(token)).status_code) != 401:
            assert time.monotonic() < deadline, f"{path} still answers {status} after {seconds} s"
            time.sleep(0.1)
