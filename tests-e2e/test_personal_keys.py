"""A user's personal API key, the chain peers report broken: create → authenticate → infer →
deduct → usage → revoke, through the gateway with the OpenAI package (issue 14)."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import openai
from helpers import CHAT_URL, GATEWAY_URL, bearer, exchange_key, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
RPM = 4


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def registered(gateway: httpx.Client) -> dict[str, str]:
    name = f"e2e{uuid.uuid4().hex[:12]}"
    response = gateway.post(
        "/api/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "E2e-Passw0rd!"},
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["accessToken"])


def balance(gateway: httpx.Client, user: dict[str, str]) -> Decimal:
    response = gateway.get("/api/credits/balance", headers=user)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["totalCredits"]))


def test_a_personal_key_chats_as_its_owner_is_charged_limited_and_revoked(gateway):
    user = registered(gateway)
    assert eventually(lambda: balance(gateway, user) > 0), "no default-plan grant arrived"
    created = gateway.post(
        "/api/auth/api-keys",
        json={"name": "laptop", "models": [HAIKU], "requestsPerMinute": RPM},
        headers=user,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    listed = gateway.get("/api/auth/api-keys", headers=user).json()
    assert [k["id"] for k in listed["keys"]] == [key["id"]]
    assert "key" not in listed["keys"][0]  # the secret is shown once only
    # Another user neither sees nor revokes it.
    stranger = registered(gateway)
    assert gateway.get("/api/auth/api-keys", headers=stranger).json()["keys"] == []
    assert gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=stranger).status_code == 404

    before = balance(gateway, user)
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key["key"], max_retries=0)
    assert [m.id for m in client.models.list().data] == [HAIKU]  # the key's own models
    answer = client.chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "Hello from my own key"}]
    )
    assert answer.choices[0].message.content and answer.usage is not None
    price = gateway.post(
        "/api/credits/calculate",
        json={
            "modelId": HAIKU,
            "inputTokens": answer.usage.prompt_tokens,
            "outputTokens": answer.usage.completion_tokens,
        },
        headers=user,
    ).json()["credits"]
    # Charged to its owner, by what chat measured.
    assert eventually(lambda: before - balance(gateway, user) == Decimal(str(price)))

    # The key's own requestsPerMinute, at the gateway, for a key of its own (the gateway's
    # window is the wall-clock minute: the burst starts well inside one).
    limited = gateway.post(
        "/api/auth/api-keys", json={"name": "limited", "requestsPerMinute": RPM}, headers=user
    ).json()
    burst = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=limited["key"], max_retries=0)
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)
    outcomes = []
    for _ in range(RPM + 2):
        try:
            burst.models.list()
            outcomes.append(200)
        except openai.RateLimitError as refused:
            assert refused.response.headers.get("Retry-After")
            outcomes.append(429)
    assert outcomes == [200] * RPM + [429, 429]

    issued = bearer(exchange_key(key["key"]).json()["accessToken"])
    assert gateway.get("/api/credits/balance", headers=issued).status_code == 200
    revoked = gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=user)
    assert revoked.status_code == 200, revoked.text
    assert exchange_key(key["key"]).status_code == 401
    # A token it was already traded for is refused within a second (api_key.revoked).
    assert eventually(
        lambda: gateway.get("/api/credits/balance", headers=issued).status_code == 401,
        timeout=1.0,
    )
    assert [k["id"] for k in gateway.get("/api/auth/api-keys", headers=user).json()["keys"]] == [
        limited["id"]
    ]


def test_an_admins_personal_key_has_no_admin_powers(gateway, auth):
    admin = bearer(tokens_for(auth, "admin")["accessToken"])
    created = gateway.post("/api/auth/api-keys", json={"name": "admin's"}, headers=admin)
    assert created.status_code == 201, created.text
    key = created.json()
    try:
        token = exchange_key(key["key"]).json()["accessToken"]
        assert gateway.get("/api/auth/users", headers=bearer(token)).status_code == 403
        assert gateway.get("/api/auth/users", headers=bearer(key["key"])).status_code == 403
        # Nor does a key mint more keys.
        minted = gateway.post("/api/auth/api-keys", json={"name": "x"}, headers=bearer(token))
        assert minted.status_code == 403
    finally:
        gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=admin)


def test_a_keys_tokens_per_minute_refuses_its_next_answer_at_chat(gateway):
    """Counted where tokens are measured: through the gateway and on chat's own port alike."""
    user = registered(gateway)
    assert eventually(lambda: balance(gateway, user) > 0), "no default-plan grant arrived"
    created = gateway.post(
        "/api/auth/api-keys", json={"name": "tpm", "tokensPerMinute": 5}, headers=user
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["tokensPerMinute"] == 5
    if time.time() % 60 > 45:  # one answer and the next request in the same minute
        time.sleep(61 - time.time() % 60)
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key["key"], max_retries=0)
    answer = client.chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "Tell me a long story"}]
    )
    assert answer.usage is not None and answer.usage.total_tokens > 5
    try:
        client.chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "more"}])
        raise AssertionError("a key past its tokens per minute got another answer")
    except openai.RateLimitError as refused:
        assert refused.response.headers.get("Retry-After")
        assert refused.body["code"] == "rate_limited"
    token = exchange_key(key["key"]).json()["accessToken"]
    direct = openai.OpenAI(base_url=f"{CHAT_URL}/v1", api_key=token, max_retries=0)
    try:
        direct.chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("chat's own port let the key past its tokens per minute")
    except openai.RateLimitError:
        pass
    gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=user)


# Every answer of the budget race is the same: the simulator's directives (in the last user
# message) fix it at ANSWER_TOKENS words, unpaced, after a first-token delay that keeps each
# answer's hold open long enough to be read (and the 20 holds open together).
ANSWER_TOKENS = 1000
RACE_PROMPT = (
    f"[[sim:answer-tokens={ANSWER_TOKENS}]] [[sim:tokens-per-second=0]] "
    "[[sim:first-token-delay-ms=1500]]"
)


def race_call(client: openai.OpenAI) -> tuple[int, object]:
    """(200, the completion) or (status, the error body) for one call of the race."""
    try:
        answer = client.chat.completions.create(
            model=HAIKU,
            messages=[{"role": "user", "content": RACE_PROMPT}],
            max_tokens=ANSWER_TOKENS,
        )
    except openai.APIStatusError as refused:
        return refused.status_code, refused.body
    return 200, answer


def credits(gateway: httpx.Client, user: dict[str, str], usage) -> Decimal:
    """What accounting charges for an answer's measured tokens."""
    price = gateway.post(
        "/api/credits/calculate",
        json={
            "modelId": HAIKU,
            "inputTokens": usage.prompt_tokens,
            "outputTokens": usage.completion_tokens,
        },
        headers=user,
    )
    assert price.status_code == 200, price.text
    return Decimal(str(price.json()["credits"]))


def measured_answer(gateway: httpx.Client, user: dict[str, str]) -> tuple[Decimal, Decimal]:
    """(its hold, its charge) for one race answer, measured with a key without a budget: the
    hold while the answer waits for its first token (the owner's open reservations), the
    charge from the tokens it reports."""
    probe = gateway.post("/api/auth/api-keys", json={"name": "probe"}, headers=user).json()
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=probe["key"], max_retries=0)
    outcome: list[tuple[int, object]] = []
    call = threading.Thread(target=lambda: outcome.append(race_call(client)))
    call.start()

    def open_hold() -> Decimal | None:
        held = gateway.get("/api/streaming-sessions/active", headers=user).json()
        holds = held["reservations"]
        return Decimal(str(holds[0]["allocatedCredits"])) if holds else None

    hold = eventually(open_hold, timeout=10)
    call.join(30)
    assert hold, "the probe's hold was never seen"
    status, answer = outcome[0]
    assert status == 200, answer
    assert isinstance(answer, openai.types.chat.ChatCompletion) and answer.usage is not None
    assert answer.usage.completion_tokens == ANSWER_TOKENS
    gateway.delete(f"/api/auth/api-keys/{probe['id']}", headers=user)
    return hold, credits(gateway, user, answer.usage)


def test_20_concurrent_calls_against_a_keys_budget_for_5_answer_5(gateway):
    """A key's budget (maxBudgetCredits) is never overspent: of 20 concurrent calls through
    the gateway against a budget for 5 answers, exactly 5 are answered and 15 refused with 402
    key_budget_exceeded, and the owner is charged exactly those 5.

    How the figures are deterministic: every call asks the same question with the same
    directives, so each answer is exactly ANSWER_TOKENS output tokens on the same input, and
    costs the same charge C; chat holds the same H for each (its estimate of the prompt plus
    max_tokens, priced with accounting's margin). Both are measured first with a key without
    a budget, and the budget is 5 H: five holds fit, a sixth does not. Nor can one ever fit
    later in the race, when some answers have already settled (k of them leave k (H - C) of
    room, less than H for k <= 5 as long as C > 0.8 H, which is asserted)."""
    user = registered(gateway)
    assert eventually(lambda: balance(gateway, user) > 0), "no default-plan grant arrived"
    hold, charge = measured_answer(gateway, user)
    assert Decimal("0.8") * hold < charge <= hold, (hold, charge)
    budget = 5 * hold
    created = gateway.post(
        "/api/auth/api-keys",
        json={"name": "budgeted", "maxBudgetCredits": str(budget)},
        headers=user,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert Decimal(str(key["maxBudgetCredits"])) == budget

    before = balance(gateway, user)
    client = openai.OpenAI(base_url=f"{GATEWAY_URL}/v1", api_key=key["key"], max_retries=0)
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: race_call(client), range(20)))
    answered = [body for status, body in outcomes if status == 200]
    refused = [(status, body) for status, body in outcomes if status != 200]
    assert len(answered) == 5, refused
    assert len(refused) == 15
    for status, body in refused:
        assert status == 402 and isinstance(body, dict), (status, body)
        assert body["code"] == "key_budget_exceeded", body
        assert Decimal(str(body["details"]["budgetCredits"])) == budget
    for answer in answered:
        assert isinstance(answer, openai.types.chat.ChatCompletion) and answer.usage is not None
        assert credits(gateway, user, answer.usage) == charge

    # The owner paid exactly the five answers, and the key's spend shows it by keyId.
    assert eventually(lambda: before - balance(gateway, user) == 5 * charge), before - balance(
        gateway, user
    )
    stats = gateway.get("/api/usage/stats", params={"keyId": key["id"]}, headers=user).json()
    (by_key,) = stats["byKey"]
    assert by_key["keyId"] == key["id"] and by_key["requests"] == 5
    assert Decimal(str(by_key["spentCredits"])) == 5 * charge
    assert by_key["heldCredits"] == 0
    assert Decimal(str(by_key["maxBudgetCredits"])) == budget
    # What is left (5 (H - C)) is less than one more answer's hold.
    status, body = race_call(client)
    assert (status, body["code"] if isinstance(body, dict) else body) == (
        402,
        "key_budget_exceeded",
    )
    gateway.delete(f"/api/auth/api-keys/{key['id']}", headers=user)
