from decimal import Decimal

from helpers import bearer, stream_observed, tokens_for

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def fund(auth, accounting, username, credits):
    admin = tokens_for(auth, "admin")["accessToken"]
    response = accounting.post(
        "/api/credits/allocate",
        json={"targetUserId": username, "credits": credits},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text


def credits_of(accounting, token) -> Decimal:
    body = accounting.get("/api/credits/balance", headers=bearer(token)).json()
    return Decimal(str(body["totalCredits"]))


def test_stream_while_a_supervisor_observes_and_pay_exactly_what_it_cost(auth, accounting, chat):
    fund(auth, accounting, "user1", 50)
    user = tokens_for(auth, "user1")["accessToken"]
    supervisor = tokens_for(auth, "supervisor1")["accessToken"]
    created = chat.post("/api/chat/sessions", json={"modelId": HAIKU}, headers=bearer(user))
    assert created.status_code == 201, created.text
    session = created.json()["sessionId"]
    before = credits_of(accounting, user)

    events, observed = stream_observed(
        chat,
        session,
        bearer(user),
        bearer(supervisor),
        "Explain streaming [[sim:tokens-per-second=100]]",
    )

    names = [e for e, _, _ in events]
    assert names[0] == "model" and names[-1] == "complete"
    answer = "".join(d["content"] for e, d, _ in events if e == "chunk")
    complete = events[-1][1]
    assert observed[0][0] == "observer"
    assert (
        observed[0][1]["partialResponse"]
        + "".join(d["content"] for e, d in observed[1:] if e == "chunk")
        == answer
    )
    spent = before - credits_of(accounting, user)
    assert spent == Decimal(str(complete["creditsUsed"])) > 0
    detail = chat.get(f"/api/chat/sessions/{session}", headers=bearer(user)).json()
    assert detail["messages"][-1]["content"] == answer
    assert chat.delete(f"/api/chat/sessions/{session}", headers=bearer(user)).status_code == 200


def test_models_and_roles(auth, chat):
    user = tokens_for(auth, "user1")["accessToken"]
    models = chat.get("/api/models", headers=bearer(user)).json()["models"]
    assert HAIKU in {m["id"] for m in models}
    assert chat.get("/api/chat/streams/active", headers=bearer(user)).status_code == 403
    unknown = chat.post("/api/chat/sessions", json={"modelId": "nope"}, headers=bearer(user))
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_model"
