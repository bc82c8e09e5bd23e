"""`POST .../update-stream` is accepted for compatibility, but what a client says there never
changes a charge, a settlement or a stored answer: those are what the server measured."""

from decimal import Decimal

import asyncpg
import pytest

from ..conftest import balance, bearer, funded_user, new_session, read_events, text_of

SLOW = "count it [[sim:tokens-per-second=20]] [[sim:answer-tokens=20]]"


async def update_stream(http, stack, user, session, **body):
    return await http.post(
        f"{stack.chat}/api/chat/sessions/{session}/update-stream",
        json=body,
        headers=bearer(user["token"]),
    )


async def test_a_clients_token_count_changes_no_charge_and_no_stored_answer(http, stack):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    before = await balance(http, stack, user)
    claims = []
    async with http.stream(
        "POST",
        f"{stack.chat}/api/chat/sessions/{session}/stream",
        json={"message": SLOW},
        headers=bearer(user["token"]),
    ) as response:
        first = await read_events(response, stop_after=2)
        streaming_session_id = first[0].data["streamingSessionId"]
        # While the answer streams: "it is over, and it used nothing".
        for tokens in (0, 1):
            claims.append(
                await update_stream(
                    http,
                    stack,
                    user,
                    session,
                    completeResponse="",
                    streamingSessionId=streaming_session_id,
                    tokensUsed=tokens,
                )
            )
        events = first + await read_events(response)
    # And after it: a smaller and a larger figure.
    for tokens in (0, 10**9):
        claims.append(
            await update_stream(
                http,
                stack,
                user,
                session,
                completeResponse="something else",
                streamingSessionId=streaming_session_id,
                tokensUsed=tokens,
            )
        )
    assert [c.status_code for c in claims] == [200] * 4
    complete = events[-1]
    assert complete.event == "complete"
    assert complete.data["outputTokens"] == 20  # the answer ran to its end, not cut short
    measured = complete.data["inputTokens"], complete.data["outputTokens"]

    after = await balance(http, stack, user)
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
    assert spent == Decimal(str(complete.data["creditsUsed"])) > 0
    assert after["reservedCredits"] == 0
    db = await asyncpg.connect(stack.accounting_db)
    try:
        settled = await db.fetchrow(
            "SELECT status, input_tokens, output_tokens FROM reservations WHERE id = $1",
            streaming_session_id,
        )
    finally:
        await db.close()
    assert (settled["status"], settled["input_tokens"], settled["output_tokens"]) == (
        "settled",
        *measured,
    )
    detail = await http.get(
        f"{stack.chat}/api/chat/sessions/{session}", headers=bearer(user["token"])
    )
    answer = detail.json()["messages"][-1]
    assert answer["content"] == text_of(events)
    assert answer["tokensUsed"] == complete.data["tokensUsed"] == sum(measured)
    assert answer["status"] == "complete"


@pytest.mark.parametrize(
    "body",
    [
        {"tokensUsed": False},
        {"tokensUsed": True},
        {"tokensUsed": "5"},
        {"tokensUsed": -1},
        {"tokensUsed": 1.5},
        {"completeResponse": 5},
        {"streamingSessionId": 5},
    ],
    ids=repr,
)
async def test_wrong_types_are_422(http, stack, body):
    user = await funded_user(http, stack)
    session = await new_session(http, stack, user)
    response = await update_stream(http, stack, user, session, **body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_another_users_session_is_404(http, stack):
    owner, other = await funded_user(http, stack), await funded_user(http, stack)
    session = await new_session(http, stack, owner)
    response = await update_stream(http, stack, other, session, tokensUsed=1)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
