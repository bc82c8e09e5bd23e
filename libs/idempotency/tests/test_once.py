"""``Once``, ``answer`` and ``idempotent_responses``: the binding a service claims and records
with, what a route sends, and what it documents."""

import uuid
from dataclasses import dataclass

from pydantic import BaseModel, Field

import idempotency
from idempotency import IdempotentRequest, Once, StoredResponse, answer, idempotent_responses
from service_kit import error_responses


class Thing(BaseModel):
    thing_id: int = Field(alias="thingId")
    note: str | None = None


def request() -> IdempotentRequest:
    return IdempotentRequest(f"k-{uuid.uuid4()}", "POST /things", b"\1" * 32)


@dataclass(frozen=True)
class Reversed(Once):
    """Keeps its bodies reversed: a stand-in for sealing."""

    marker: str

    def kept(self, response: StoredResponse) -> StoredResponse:
        return StoredResponse(response.status_code, response.body[::-1], response.content_type)

    def opened(self, kept: StoredResponse) -> StoredResponse:
        return StoredResponse(kept.status_code, kept.body[::-1], kept.content_type)


def test_bound_is_none_without_a_key():
    assert Once.bound("alice", None, 201) is None
    once = Once.bound("alice", request(), 201, exclude_none=True)
    assert once is not None and (once.caller, once.status_code, once.exclude_none) == (
        "alice",
        201,
        True,
    )


def test_stored_renders_by_alias_and_drops_nulls_only_when_asked():
    thing = Thing(thingId=7)
    keyed = request()
    assert Once("a", keyed, 201).stored(thing).body == b'{"thingId":7,"note":null}'
    dropped = Once("a", keyed, 201, exclude_none=True).stored(thing)
    assert (dropped.status_code, dropped.body, dropped.content_type) == (
        201,
        b'{"thingId":7}',
        "application/json",
    )


async def test_claim_then_record_in_one_transaction_replays_the_model(pool):
    once = Once("alice", request(), 201)
    async with pool.acquire() as conn, conn.transaction():
        assert await once.claim(conn) is None
        await once.record(conn, Thing(thingId=1))
    async with pool.acquire() as conn, conn.transaction():
        kept = await once.claim(conn)
    assert kept == StoredResponse(201, b'{"thingId":1,"note":null}', "application/json")


async def test_a_rolled_back_transaction_keeps_neither_work_nor_key(pool):
    once = Once("alice", request(), 201)

    class Crash(Exception):
        pass

    try:
        async with pool.acquire() as conn, conn.transaction():
            assert await once.claim(conn) is None
            await once.record(conn, Thing(thingId=2))
            raise Crash
    except Crash:
        pass
    async with pool.acquire() as conn, conn.transaction():
        assert await once.claim(conn) is None  # the key is free: the work runs again


async def test_a_subclass_keeps_and_opens_its_bodies_its_own_way(pool):
    once = Reversed("alice", request(), 201, "x")
    async with pool.acquire() as conn, conn.transaction():
        assert await once.claim(conn) is None
        await once.record(conn, Thing(thingId=3))
    row = await pool.fetchval(
        "SELECT body FROM idempotency_keys WHERE caller = 'alice' AND key = $1", once.request.key
    )
    assert bytes(row) == b'{"thingId":3,"note":null}'[::-1]
    async with pool.acquire() as conn, conn.transaction():
        kept = await once.claim(conn)
    assert kept is not None and kept.body == b'{"thingId":3,"note":null}'


def test_answer_sends_the_kept_bytes_again_or_the_new_model_as_kept():
    thing = Thing(thingId=4)
    assert answer(thing, None) is thing
    once = Once("a", request(), 201, exclude_none=True)
    first = answer(thing, once)
    assert not isinstance(first, BaseModel)
    assert (first.status_code, first.body) == (201, b'{"thingId":4}')
    assert idempotency.REPLAYED_HEADER not in first.headers
    again = answer(once.stored(thing), once)
    assert not isinstance(again, BaseModel)
    assert again.body == first.body
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"


def test_idempotent_responses_merge_the_keys_answers_with_the_routes():
    documented = idempotent_responses(201, error_responses(400, 409, 422))
    assert documented[201] == {"headers": idempotency.replayed_header_doc()}
    assert documented[400] == error_responses(400)[400]
    assert documented[422] == idempotency.IDEMPOTENCY_RESPONSES[422]
    own_409 = error_responses(409)[409]["description"]
    key_409 = idempotency.IDEMPOTENCY_RESPONSES[409]["description"]
    assert documented[409]["description"] == f"{own_409}; or {key_409}"
    bare = idempotent_responses(200)
    assert set(bare) == {200, 409, 422}


def test_a_documented_success_keeps_its_own_entries_and_gains_the_header():
    documented = idempotent_responses(200, {200: {"description": "The secret"}})
    assert documented[200] == {
        "description": "The secret",
        "headers": idempotency.replayed_header_doc(),
    }
