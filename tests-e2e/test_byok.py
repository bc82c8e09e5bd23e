"""Bring your own key, through the gateway: a stored provider key is shown only by its last 4
characters, is never in any response nor in plain text in a dump of provisioning's database,
is validated by the provider (the simulator, which checks the key it is given), and a chat
answer through it (a Bedrock key, an Anthropic key) reaches the simulator with that key and is
charged the BYOK fee."""

import hashlib
import os
import subprocess
import uuid

import httpx
import pytest
from helpers import bearer, onboarded_user

SIMULATOR_URL = os.environ.get("SIMULATOR_URL", "http://127.0.0.1:3005")
PROVISIONING_DATABASE = os.environ.get(
    "E2E_PROVISIONING_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/provisioning"
)
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
CLAUDE = "claude-3-5-haiku-20241022"  # chat's model served by Anthropic's own API


def fingerprint(secret: str) -> str:
    """How the simulator names a key it was sent (never the key itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def provisioning_dump() -> str:
    dumped = subprocess.run(
        ["pg_dump", "--data-only", PROVISIONING_DATABASE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dumped.stdout


@pytest.fixture
def user(gateway: httpx.Client) -> dict:
    return bearer(onboarded_user(gateway)["accessToken"])


@pytest.fixture
def other(gateway: httpx.Client) -> dict:
    return bearer(onboarded_user(gateway)["accessToken"])


class Seen:
    """Every response body of a test, to show a secret was never in one."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.bodies: list[str] = []

    def __call__(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        self.bodies.append(response.text)
        return response

    def never_showed(self, secret: str) -> None:
        assert all(secret not in body for body in self.bodies)


def test_a_key_is_stored_listed_by_last4_validated_and_never_leaked(gateway, user, other):
    good, bad = f"sk-sim-e2e-{uuid.uuid4().hex}", f"sk-e2e-wrong-{uuid.uuid4().hex}"
    call = Seen(gateway)
    providers = call("GET", "/api/byok/providers", headers=user)
    assert providers.status_code == 200
    assert {p["id"] for p in providers.json()} == {
        "openai",
        "anthropic",
        "bedrock",
        "openai-compatible",
    }
    stored = call(
        "POST",
        "/api/byok/keys",
        json={"provider": "openai", "label": "e2e", "credentials": {"apiKey": good}},
        headers=user,
    )
    assert stored.status_code == 201, stored.text
    key = stored.json()
    assert key["last4"] == good[-4:]
    wrong = call(
        "POST",
        "/api/byok/keys",
        json={"provider": "anthropic", "label": "wrong", "credentials": {"apiKey": bad}},
        headers=user,
    ).json()
    listed = call("GET", "/api/byok/keys", headers=user).json()["keys"]
    assert {(k["id"], k["last4"]) for k in listed} == {
        (key["id"], good[-4:]),
        (wrong["id"], bad[-4:]),
    }

    valid = call("POST", f"/api/byok/keys/{key['id']}/validate", headers=user)
    assert (valid.status_code, valid.json()["valid"]) == (200, True)
    # Among the simulator's latest requests (chat's model-health probe may have come after).
    recent = httpx.get(f"{SIMULATOR_URL}/sim/requests", params={"limit": 20}).json()["requests"]
    assert ("/v1/models", fingerprint(good)) in {(r["path"], r["keyFingerprint"]) for r in recent}
    refused = call("POST", f"/api/byok/keys/{wrong['id']}/validate", headers=user).json()
    assert (refused["valid"], refused["providerStatus"]) == (False, 401)

    # Another user sees none of them and cannot validate or delete them.
    assert call("GET", "/api/byok/keys", headers=other).json()["keys"] == []
    for method, path in (
        ("DELETE", f"/api/byok/keys/{key['id']}"),
        ("POST", f"/api/byok/keys/{key['id']}/validate"),
    ):
        assert call(method, path, headers=other).status_code == 404
    assert len(call("GET", "/api/byok/keys", headers=user).json()["keys"]) == 2

    dump = provisioning_dump()
    assert key["id"] in dump  # the row is in the dump...
    for secret in (good, bad):  # ...but not the secrets
        assert secret not in dump
        call.never_showed(secret)

    deleted = call("DELETE", f"/api/byok/keys/{key['id']}", headers=user)
    assert deleted.status_code == 200
    assert [k["id"] for k in call("GET", "/api/byok/keys", headers=user).json()["keys"]] == [
        wrong["id"]
    ]
    call.never_showed(good)


def test_the_internal_credential_route_is_not_routed_by_the_gateway(gateway, user):
    response = gateway.get(
        "/internal/byok/credentials", params={"userId": "x", "provider": "openai"}, headers=user
    )
    assert response.status_code == 404


def test_a_chat_answer_through_a_byok_key_reaches_the_simulator_with_it_at_the_byok_fee(
    gateway, user, other
):
    access_key_id = f"AKIASIM{uuid.uuid4().hex[:9].upper()}"
    secret = f"byok-e2e-secret-{uuid.uuid4().hex}"
    call = Seen(gateway)
    stored = call(
        "POST",
        "/api/byok/keys",
        json={
            "provider": "bedrock",
            "label": "my AWS",
            "credentials": {"accessKeyId": access_key_id, "secretAccessKey": secret},
        },
        headers=user,
    )
    assert stored.status_code == 201, stored.text
    valid = call("POST", f"/api/byok/keys/{stored.json()['id']}/validate", headers=user).json()
    assert valid["valid"] is True
    before = call("GET", "/api/credits/balance", headers=user).json()["totalCredits"]

    answer = call(
        "POST",
        "/v1/chat/completions",
        json={"model": HAIKU, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20},
        headers=user,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    recent = httpx.get(f"{SIMULATOR_URL}/sim/requests", params={"limit": 50}).json()["requests"]
    answered = next(r for r in recent if "converse" in r["path"])
    assert answered["keyFingerprint"] == fingerprint(access_key_id)

    # Charged the BYOK fee (0 by default), not the model's price; the usage says byok.
    after = call("GET", "/api/credits/balance", headers=user).json()
    assert (after["totalCredits"], after["reservedCredits"]) == (before, 0)
    stats = call("GET", "/api/usage/stats", headers=user).json()
    assert (stats["byok"]["requests"], stats["byok"]["credits"]) == (1, 0)

    # Another user's answer uses the platform's credential and is charged the model's price.
    theirs = call(
        "POST",
        "/v1/chat/completions",
        json={"model": HAIKU, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20},
        headers=other,
    )
    assert theirs.status_code == 200
    recent = httpx.get(f"{SIMULATOR_URL}/sim/requests", params={"limit": 50}).json()["requests"]
    assert next(r for r in recent if "converse" in r["path"])["keyFingerprint"] != fingerprint(
        access_key_id
    )
    their_stats = call("GET", "/api/usage/stats", headers=other).json()
    assert their_stats["byok"]["requests"] == 0 and their_stats["totals"]["credits"] > 0

    dump = provisioning_dump()
    for value in (access_key_id, secret):
        assert value not in dump
        call.never_showed(value)


def test_an_anthropic_key_answers_on_the_anthropic_model_at_the_byok_fee(gateway, user):
    key = f"sk-sim-e2e-anthropic-{uuid.uuid4().hex}"
    stored = gateway.post(
        "/api/byok/keys",
        json={"provider": "anthropic", "label": "my Anthropic", "credentials": {"apiKey": key}},
        headers=user,
    )
    assert stored.status_code == 201, stored.text
    listed = gateway.get("/api/models", headers=user).json()["models"]
    assert {"id": CLAUDE, "provider": "anthropic"}.items() <= next(
        m for m in listed if m["id"] == CLAUDE
    ).items()

    answer = gateway.post(
        "/v1/chat/completions",
        json={"model": CLAUDE, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20},
        headers=user,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"]
    recent = httpx.get(f"{SIMULATOR_URL}/sim/requests", params={"limit": 50}).json()["requests"]
    answered = next(r for r in recent if r["path"] == "/v1/messages")
    assert (answered["keyFingerprint"], answered["accepted"]) == (fingerprint(key), True)
    stats = gateway.get("/api/usage/stats", headers=user).json()
    assert (stats["byok"]["requests"], stats["byok"]["credits"]) == (1, 0)
