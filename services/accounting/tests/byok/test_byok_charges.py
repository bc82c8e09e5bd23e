"""BYOK: an answer asked with the caller's own provider credential is held and charged
BYOK_FEE_PER_1K_TOKENS instead of the model's price, whether it is settled over HTTP, by its
usage event or charged directly, and its usage record says `byok`."""

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from accounting.config import AccountingSettings
from accounting.ledger.check import find_problems
from accounting.pricing.prices import Price

from ..conftest import balance, bearer, eventually, funded_user, on_behalf
from ..usage.test_usage_events import publisher, settled, usage_event  # noqa: F401

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"  # 0.25 in / 1.25 out per 1K tokens


@pytest.fixture
def fee(app, monkeypatch):
    """A BYOK fee of 0.1 credits per 1K tokens (the setting's default is 0)."""
    prices = app.state.reservations.prices
    monkeypatch.setattr(prices, "byok", Price.of(Decimal("0.1"), Decimal("0.1")))
    return prices


async def reserve(client, user, *, byok: bool, tokens: int = 1000):
    response = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "byok-1", "modelId": HAIKU, "estimatedTokens": tokens, "byok": byok},
        headers=on_behalf(user),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def finalize(client, user, held, **tokens):
    response = await client.post(
        "/api/streaming-sessions/finalize",
        json={"streamingSessionId": held["streamingSessionId"], **tokens},
        headers=on_behalf(user),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def usage_record(db, streaming_session_id):
    return await db.fetchrow(
        "SELECT credits_micro, byok FROM usage_records WHERE reservation_id = $1",
        uuid.UUID(streaming_session_id),
    )


async def test_a_byok_answer_is_held_and_charged_the_fee_not_the_model_price(client, auth, db, fee):
    user = await funded_user(client, auth, 10)
    held = await reserve(client, user, byok=True)
    assert held["allocatedCredits"] == 0.11  # 1000 tokens at 0.1/1K, +10 %
    done = await finalize(client, user, held, inputTokens=400, outputTokens=600)
    assert done["usedCredits"] == 0.1  # not 0.85 at the model's price
    assert (await balance(client, user))["totalCredits"] == 9.9
    record = await usage_record(db, held["streamingSessionId"])
    assert (record["credits_micro"], record["byok"]) == (100_000, True)
    async with db.acquire() as conn:
        assert await find_problems(conn) == []


async def test_without_byok_the_model_price_still_applies(client, auth, db, fee):
    user = await funded_user(client, auth, 10)
    held = await reserve(client, user, byok=False)
    done = await finalize(client, user, held, inputTokens=400, outputTokens=600)
    assert done["usedCredits"] == 0.85
    assert (await usage_record(db, held["streamingSessionId"]))["byok"] is False


async def test_the_default_fee_of_zero_holds_one_micro_credit_and_charges_nothing(client, auth, db):
    user = await funded_user(client, auth, 10)
    held = await reserve(client, user, byok=True)
    assert held["allocatedCredits"] == 0.000001  # the ledger holds only positive amounts
    done = await finalize(client, user, held, inputTokens=400, outputTokens=600)
    assert (done["usedCredits"], done["refund"]) == (0, 0.000001)
    assert (await balance(client, user))["totalCredits"] == 10
    stats = (await client.get("/api/usage/stats", headers=bearer(user["token"]))).json()
    assert stats["byok"]["requests"] == 1 and stats["byok"]["credits"] == 0
    assert stats["totals"]["requests"] == 1


async def test_the_usage_event_settles_a_byok_reservation_at_the_fee(
    client,
    auth,
    db,
    fee,
    publisher,  # noqa: F811
):
    user = await funded_user(client, auth, 10)
    held = await reserve(client, user, byok=True)
    # Even an event that does not say byok: the reservation's word stands.
    event = usage_event(user, session_id="byok-1", streaming_session_id=held["streamingSessionId"])
    await publisher.publish(event)
    assert await eventually(lambda: settled(db, uuid.UUID(event["eventId"]))) == 1
    record = await usage_record(db, held["streamingSessionId"])
    assert (record["credits_micro"], record["byok"]) == (100_000, True)


async def test_a_direct_byok_charge_is_the_fee_and_marked(client, auth, db, fee, publisher):  # noqa: F811
    user = await funded_user(client, auth, 10)
    event = usage_event(user, input_tokens=1000, output_tokens=1000, byok=True)
    await publisher.publish(event)
    assert await eventually(lambda: settled(db, uuid.UUID(event["eventId"]))) == 1
    record = await db.fetchrow(
        "SELECT credits_micro, byok FROM usage_records WHERE event_id = $1",
        uuid.UUID(event["eventId"]),
    )
    assert (record["credits_micro"], record["byok"]) == (200_000, True)  # 2K tokens at 0.1


async def test_byok_must_be_a_boolean(client, auth):
    user = await funded_user(client, auth, 10)
    response = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "s", "modelId": HAIKU, "estimatedTokens": 10, "byok": "yes"},
        headers=on_behalf(user),
    )
    assert response.status_code == 422


def test_the_fee_setting_is_a_non_negative_decimal():
    settings = AccountingSettings(environment="test", byok_fee_per_1k_tokens="0.25")
    assert settings.price_table().byok == Price(250_000, 250_000)
    assert AccountingSettings(environment="test").price_table().byok == Price(0, 0)
    with pytest.raises(ValidationError, match="byok_fee_per_1k_tokens"):
        AccountingSettings(environment="test", byok_fee_per_1k_tokens="-1")
