"""Failed API key exchanges: a refused key is refused again without asking auth for a while,
and failures are limited per client address (429 without asking auth). The exchange itself is
in process here (``StubExchange``): what is under test is the gateway's side."""

import uuid

import pytest

from gateway.api_keys.exchange import (
    ApiKeyTokens,
    ExchangedToken,
    ExchangeUnavailable,
    InvalidApiKey,
)
from service_kit import ApiError

from ..conftest import StubExchange, bearer, signed_token, through_proxy, unique_address


def _bad_key() -> str:
    return f"sk-bad-{uuid.uuid4().hex}"


@pytest.fixture
def start_with_keys(start_gateway):
    def start(exchange: StubExchange, **overrides):
        return start_gateway(key_exchange=exchange, trusted_proxies="127.0.0.1", **overrides)

    return start


async def test_a_refused_key_is_refused_again_without_asking_auth(http, start_with_keys):
    exchange = StubExchange()
    key = _bad_key()
    async with start_with_keys(exchange) as url:
        responses = [
            await http.get(
                f"{url}/api/chat/sessions", headers={**bearer(key), **through_proxy(address)}
            )
            for address in (unique_address(), unique_address(), unique_address())
        ]
    assert [r.status_code for r in responses] == [401, 401, 401]
    for response in responses:
        assert response.json() == {
            "message": "Invalid authentication token",
            "code": "invalid_token",
        }
    assert exchange.calls == [key]


async def test_failed_keys_from_one_address_end_in_429_without_asking_auth(http, start_with_keys):
    exchange = StubExchange()
    address = unique_address()
    keys = [_bad_key() for _ in range(8)]
    async with start_with_keys(exchange, api_key_failures_per_minute=3) as url:
        responses = [
            await http.get(
                f"{url}/api/chat/sessions", headers={**bearer(key), **through_proxy(address)}
            )
            for key in keys + keys  # each one twice: the second time its refusal is cached
        ]
        # Another address is not affected.
        elsewhere = await http.get(
            f"{url}/api/chat/sessions",
            headers={**bearer(_bad_key()), **through_proxy(unique_address())},
        )
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 401 and set(statuses) == {401, 429}, statuses
    # Sixteen failures in at most two windows of 3: at most six answered 401.
    assert statuses.count(401) <= 6, statuses
    for response in responses:
        if response.status_code == 429:
            assert response.json()["code"] == "rate_limited"
            assert "failed API key attempts" in response.json()["message"]
            assert 1 <= int(response.headers["retry-after"]) <= 60
    # Auth was asked at most once per distinct key, and never for a request answered 429.
    assert len(exchange.calls) == len(set(exchange.calls)) <= 6
    assert elsewhere.status_code == 401


async def test_good_keys_and_auth_outages_do_not_count_as_failures(http, start_with_keys):
    good = {f"sk-good-{i}-{uuid.uuid4().hex}": signed_token() for i in range(5)}
    exchange = StubExchange(keys=good)
    address = unique_address()
    async with start_with_keys(exchange, api_key_failures_per_minute=2) as url:
        for key in good:
            response = await http.get(
                f"{url}/api/chat/sessions", headers={**bearer(key), **through_proxy(address)}
            )
            assert response.status_code == 200
        exchange.unavailable = True
        for _ in range(4):
            response = await http.get(
                f"{url}/api/chat/sessions",
                headers={**bearer(_bad_key()), **through_proxy(address)},
            )
            assert response.status_code == 503
        # Still nothing counted: a key now gets its answer from auth.
        exchange.unavailable = False
        response = await http.get(
            f"{url}/api/chat/sessions", headers={**bearer(_bad_key()), **through_proxy(address)}
        )
        assert response.status_code == 401


async def test_a_cached_good_key_works_from_an_address_past_its_failures(http, start_with_keys):
    good = "sk-good-" + uuid.uuid4().hex
    exchange = StubExchange(keys={good: signed_token()})
    address = unique_address()
    async with start_with_keys(exchange, api_key_failures_per_minute=1) as url:
        headers = through_proxy(address)
        assert (await http.get(f"{url}/api/models", headers={**bearer(good), **headers})).is_success
        # Four failures in at most two windows of 1: the address is refused at least twice.
        statuses = [
            (
                await http.get(f"{url}/api/models", headers={**bearer(_bad_key()), **headers})
            ).status_code
            for _ in range(4)
        ]
        assert statuses.count(429) >= 2, statuses
        again = await http.get(f"{url}/api/models", headers={**bearer(good), **headers})
    assert again.status_code == 200


# --- the refusal cache on its own, with a clock the test turns ------------------------------


class Answers:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    async def exchange(self, api_key, request_id=None):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_a_refusal_is_cached_for_its_time_then_auth_is_asked_again():
    now = [1000.0]
    exchange = Answers(InvalidApiKey(), ExchangedToken("jwt", 300))
    tokens = ApiKeyTokens(exchange, 30, refusal_cache_seconds=30, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(ApiError) as refused:
            await tokens.token_for("sk-a", client="192.0.2.1")
        assert refused.value.status == 401
        now[0] += 9.9
    assert exchange.calls == 1
    assert "sk-a" not in repr(tokens._refused)
    now[0] += 0.4  # past 30 s
    assert await tokens.token_for("sk-a", client="192.0.2.1") == "jwt"
    assert exchange.calls == 2


async def test_an_unavailable_answer_is_not_cached_as_a_refusal():
    exchange = Answers(ExchangeUnavailable("down"), ExchangedToken("jwt", 300))
    tokens = ApiKeyTokens(exchange, 30)
    with pytest.raises(ApiError) as unavailable:
        await tokens.token_for("sk-a")
    assert unavailable.value.status == 503
    assert await tokens.token_for("sk-a") == "jwt"


async def test_the_refusal_cache_is_bounded():
    exchange = Answers(*[InvalidApiKey() for _ in range(5)])
    tokens = ApiKeyTokens(exchange, 30, max_entries=3)
    for i in range(5):
        with pytest.raises(ApiError):
            await tokens.token_for(f"sk-{i}")
    assert len(tokens._refused) == 3
