"""Every service's own OpenAPI, fuzzed with schemathesis against the running stack.

Each operation of auth, accounting, chat, provisioning and the gateway (its own routes) gets
generated requests, valid and invalid (schemathesis' examples, coverage and fuzzing phases,
positive and negative), sent straight to the service's port with a real token of the kind its
security names. Every answer must be:

- no server error (5xx),
- a status code the operation documents,
- of a documented content type, with the documented headers,
- a body of the documented schema for that status.

Who calls: routes whose security is ``ServiceToken`` (service only, ``/internal/*``) get the
token of a service that has the scope; user routes get a fresh user's access token, or the
admin's where the summary names an admin or supervisor role. Valid requests of the fuzzing and
examples phases act on real objects (a chat session, an organization with a team, a team key,
a plan, an invitation, a second user) instead of random ids, so they reach past the 404; the
coverage phase keeps its generated ids. Nothing touches the demo users but the admin, whose
own account is never changed; a plan made here is never the default. The module runs after
the rest of the suite (conftest.py): it spends the fresh user's chat limit and a few of the
address's login failures.

Bounded: ``FUZZ_MAX_EXAMPLES`` (default 25) fuzzed requests per operation besides the
coverage phase's boundary cases, no shrinking, a fixed seed (``FUZZ_SEED`` to change it),
streams read for at most a few events: about a minute and a half on two cores.
Not fuzzed: the observer stream with a real session (it stays open while nothing streams) and
DELETE routes with real ids (they would remove what the other operations act on).
"""

import os
import re
import uuid
from dataclasses import dataclass, field

import pytest
import schemathesis
from helpers import (
    ACCOUNTING_URL,
    AUTH_URL,
    CHAT_URL,
    DEMO_USERS,
    GATEWAY_URL,
    PROVISIONING_URL,
    bearer,
    new_user,
    service_token,
    tokens_for,
)
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = {
    "seed": int(os.environ.get("FUZZ_SEED", "20261201")),
    "generation": {
        "max-examples": int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")),
        "no-shrink": True,
        "database": "none",
    },
    "phases": {"stateful": {"enabled": False}},
    "request-timeout": 20,
    "max-stream-events": 5,
    "operations": [
        # Each wrong password takes one of the address's login failures (100 per 15 min by
        # default) that every test of the suite logs in from: a few are enough.
        {
            "include-path": "/api/auth/login",
            "generation": {"max-examples": 5},
            "phases": {"coverage": {"enabled": False}},
        }
    ],
}

# Who calls each service-only route: a service whose scopes include the route's
# (services/auth/src/auth/service_clients/registry.py). The longest matching prefix wins.
SERVICE_CALLERS = {
    "/internal/api-keys/exchange": "gateway",
    "/internal/revocations": "chat",
    "/internal/": "provisioning",
    "/api/streaming-sessions/": "chat",
    "/api/usage/record": "chat",
}
ADMIN_ROUTE = re.compile(r"\((?:supervisor, )?admin\)|supervisor|platform admin")
# Chat writes count against the per-user request limit (429 once it is spent).
CHAT_WRITES = (
    "POST /api/chat/sessions",
    "POST /api/chat/sessions/{session_id}/messages",
    "POST /api/chat/sessions/{session_id}/stream",
    "GET /api/chat/sessions/{session_id}/stream",
    "POST /api/chat/sessions/{session_id}/update-stream",
    "POST /v1/chat/completions",
)
# Operations that never get real ids (see the module's docstring).
NO_REAL_IDS = ("/api/chat/sessions/{session_id}/observe",)


@dataclass
class Actor:
    """A fresh user with credits and a chat session of their own."""

    token: str
    session_id: str


@dataclass
class Fuzz:
    tokens: dict[str, str]
    username: str
    user: Actor
    # Each chat write has its own user, so one operation's requests do not spend the
    # per-user limit that the next operation's need.
    chat_writers: dict[str, Actor]
    path: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    def caller(self, case: Case) -> str | None:
        security = case.operation.definition.raw.get("security") or []
        schemes = {name for requirement in security for name in requirement}
        if not schemes:
            return None
        if "ServiceToken" in schemes:
            prefix = max((p for p in SERVICE_CALLERS if case.path.startswith(p)), key=len)
            return SERVICE_CALLERS[prefix]
        summary = case.operation.definition.raw.get("summary", "")
        return "admin" if ADMIN_ROUTE.search(summary) else "user"

    def send(self, case: Case) -> None:
        caller = self.caller(case)
        actor = self.chat_writers.get(case.operation.label, self.user)
        if _valid(case):
            if case.headers and "X-On-Behalf-Of" in case.headers:
                case.headers["X-On-Behalf-Of"] = f"Bearer {actor.token}"
            if case.meta.phase.name.value in ("fuzzing", "examples"):
                self.use_real_objects(case, actor)
        if isinstance(case.body, dict) and caller is not None:
            # The schemas' examples name demo users: leave them alone.
            for name, value in case.body.items():
                if isinstance(value, str) and value in DEMO_USERS:
                    case.body[name] = self.username
        if case.path == "/api/plans" and isinstance(case.body, dict):
            case.body["isDefault"] = False  # new users' plan stays the configured one
        token = actor.token if caller == "user" else self.tokens.get(caller or "")
        headers = bearer(token) if token else {}
        case.call_and_validate(headers=headers, checks=CHECKS)

    def use_real_objects(self, case: Case, actor: Actor) -> None:
        if case.method.upper() != "DELETE" and case.path not in NO_REAL_IDS:
            real = {**self.path, "session_id": actor.session_id}
            for name in case.path_parameters or {}:
                if name in real:
                    case.path_parameters[name] = real[name]
        for name in case.query or {}:
            if name in self.fields:
                case.query[name] = self.fields[name]
        if isinstance(case.body, dict):
            for name in case.body:
                if name in self.fields:
                    case.body[name] = self.fields[name]
        if case.path == "/v1/chat/completions" and isinstance(case.body, dict):
            case.body["model"] = HAIKU
            if isinstance(case.body.get("messages"), list):
                case.body["messages"].append({"role": "user", "content": "Hello"})


def _valid(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.value == "positive"


def _created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="session")
def fuzz(auth, accounting, chat, provisioning) -> Fuzz:
    """Fresh users with credits and objects of their own, the admin, and service tokens."""
    admin = tokens_for(auth, "admin")["accessToken"]
    tokens = {"admin": admin}
    for service in set(SERVICE_CALLERS.values()):
        tokens[service] = service_token(service)
    as_admin = bearer(admin)

    def actor() -> tuple[dict, Actor]:
        user = new_user(auth)
        headers = bearer(user["accessToken"])
        _created(
            accounting.post(
                "/api/credits/allocate",
                json={"targetUserId": user["user"]["id"], "credits": 100},
                headers=as_admin,
            )
        )
        session = _created(
            chat.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=headers)
        )
        return user, Actor(user["accessToken"], session["sessionId"])

    user, owner = actor()
    victim = new_user(auth)
    as_user, as_victim = bearer(owner.token), bearer(victim["accessToken"])
    tag = uuid.uuid4().hex[:10]
    org = _created(
        provisioning.post(
            "/api/organizations", json={"slug": f"fuzz-{tag}", "name": "Fuzz"}, headers=as_user
        )
    )
    group = _created(
        provisioning.post(
            "/api/model-groups", json={"name": f"fuzz-{tag}", "models": [HAIKU]}, headers=as_admin
        )
    )
    team = _created(
        provisioning.post(
            "/api/teams",
            json={"organizationId": org["id"], "name": "fuzz", "modelGroups": [group["name"]]},
            headers=as_user,
        )
    )
    key = _created(
        provisioning.post(f"/api/teams/{team['id']}/keys", json={"name": "fuzz"}, headers=as_user)
    )
    plan = _created(
        provisioning.post(
            "/api/plans",
            json={"name": f"fuzz-{tag}", "monthlyCredits": 1, "requestsPerMinute": 10},
            headers=as_admin,
        )
    )
    other_org = _created(
        provisioning.post(
            "/api/organizations",
            json={"slug": f"fuzz-{tag}-other", "name": "Fuzz other"},
            headers=as_victim,
        )
    )
    invitation = _created(
        provisioning.post(
            f"/api/organizations/{other_org['id']}/invitations",
            json={"email": user["user"]["email"]},
            headers=as_victim,
        )
    )
    return Fuzz(
        tokens=tokens,
        username=user["user"]["username"],
        user=owner,
        chat_writers={label: actor()[1] for label in CHAT_WRITES},
        path={
            "org_id": org["id"],
            "team_id": team["id"],
            "key_id": key["id"],
            "account_id": team["accountId"],
            "plan_id": plan["id"],
            "invitation_id": invitation["id"],
            "user_id": victim["user"]["id"],
            "login": user["user"]["username"],
        },
        fields={"organizationId": org["id"], "teamId": team["id"]},
    )


def _fuzz_test(name: str, url: str):
    """One test item per operation of the service's OpenAPI, read when the module is collected
    (`make e2e` has the stack up by then); a single failing item when it cannot be read."""
    try:
        schema = schemathesis.openapi.from_url(
            f"{url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
        )
    except Exception as exc:  # any reason is the test's failure, not the collection's
        reason = f"no OpenAPI document at {url}/openapi.json: {exc}"

        def unreadable() -> None:
            pytest.fail(reason, pytrace=False)

        unreadable.__name__ = name
        return unreadable

    def fuzzed(case: Case, fuzz: Fuzz) -> None:
        fuzz.send(case)

    fuzzed.__name__ = name
    return schema.parametrize()(fuzzed)


test_auth = _fuzz_test("test_auth", AUTH_URL)
test_accounting = _fuzz_test("test_accounting", ACCOUNTING_URL)
test_chat = _fuzz_test("test_chat", CHAT_URL)
test_provisioning = _fuzz_test("test_provisioning", PROVISIONING_URL)
test_gateway = _fuzz_test("test_gateway", GATEWAY_URL)
