"""One key, one piece of work: replays, refusals, callers, races and expiry."""

import asyncio
import uuid
from datetime import timedelta

import pytest

import idempotency


def key() -> str:
    return f"k-{uuid.uuid4()}"


async def post(client, body, *, idem=None, caller="alice"):
    headers = {"caller": caller}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return await client.post("/orders", json=body, headers=headers)


async def done_for(pool, caller, item) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM work WHERE caller = $1 AND item = $2", caller, item
    )


async def test_the_same_key_and_body_replay_the_first_response(client, pool):
    k, item = key(), key()
    first = await post(client, {"item": item}, idem=k)
    second = await post(client, {"item": item}, idem=k)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["content-type"] == first.headers["content-type"]
    assert await done_for(pool, "alice", item) == 1


async def test_the_same_key_with_another_body_is_422(client, pool):
    k, item = key(), key()
    assert (await post(client, {"item": item}, idem=k)).status_code == 201
    reused = await post(client, {"item": item + "-other"}, idem=k)
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert await done_for(pool, "alice", item + "-other") == 0


async def test_the_body_is_compared_byte_for_byte(client):
    k = key()
    headers = {"caller": "alice", "Idempotency-Key": k, "content-type": "application/json"}
    first = await client.post("/orders", content=b'{"item":"x"}', headers=headers)
    spaced = await client.post("/orders", content=b'{"item": "x"}', headers=headers)
    assert first.status_code == 201
    assert spaced.status_code == 422


async def test_keys_are_per_caller(client, pool):
    k, item = key(), key()
    alice = await post(client, {"item": item}, idem=k, caller="alice")
    bob = await post(client, {"item": item}, idem=k, caller="bob")
    assert alice.status_code == bob.status_code == 201
    assert "idempotent-replayed" not in bob.headers
    assert alice.json()["id"] != bob.json()["id"]
    assert await done_for(pool, "alice", item) == await done_for(pool, "bob", item) == 1


async def test_without_a_key_every_request_runs(client, pool):
    item = key()
    await post(client, {"item": item})
    await post(client, {"item": item})
    assert await done_for(pool, "alice", item) == 2


@pytest.mark.parametrize("bad", ["", "x" * 256])
async def test_a_key_outside_1_to_255_characters_is_422(client, bad):
    response = await post(client, {"item": "x"}, idem=bad)
    assert response.status_code == 422


async def test_a_key_of_255_characters_is_accepted(client):
    long_key = "x" * (255 - len(k := key())) + k
    assert (await post(client, {"item": "x"}, idem=long_key)).status_code == 201


async def test_a_refused_request_keeps_no_key_and_its_retry_runs(client, pool):
    k, item = key(), key()
    refused = await post(client, {"item": item, "fail": True}, idem=k)
    assert refused.status_code == 400
    assert await done_for(pool, "alice", item) == 0
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", k) == 0
    retried = await post(client, {"item": item}, idem=k)
    assert retried.status_code == 201
    assert await done_for(pool, "alice", item) == 1


async def test_concurrent_requests_with_one_key_run_once_and_the_other_replays(client, pool):
    k, item = key(), key()
    body = {"item": item, "slow": 0.5}
    answers = await asyncio.gather(*(post(client, body, idem=k) for _ in range(3)))
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.content for a in answers}) == 1
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true", "true"]
    assert await done_for(pool, "alice", item) == 1


async def test_a_request_waiting_past_the_limit_is_409_in_progress(client, pool, monkeypatch):
    monkeypatch.setattr("idempotency.store.IN_PROGRESS_WAIT", timedelta(milliseconds=100))
    k, item = key(), key()
    slow = asyncio.create_task(post(client, {"item": item, "slow": 1.5}, idem=k))
    await asyncio.sleep(0.3)
    waiting = await post(client, {"item": item, "slow": 1.5}, idem=k)
    assert waiting.status_code == 409
    assert waiting.json()["code"] == "idempotency_key_in_progress"
    assert waiting.headers["retry-after"] == "1"
    assert (await slow).status_code == 201
    assert await done_for(pool, "alice", item) == 1


async def test_the_claim_leaves_the_lock_timeout_as_it_was(pool):
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL lock_timeout = '42s'")
        request = idempotency.IdempotentRequest(key(), "POST /x", b"\0" * 32)
        assert await idempotency.claim(conn, "alice", request) is None
        assert await conn.fetchval("SELECT current_setting('lock_timeout')") == "42s"


async def test_an_expired_key_runs_again_and_expired_rows_are_purged(client, pool):
    k, item = key(), key()
    first = await post(client, {"item": item}, idem=k)
    await pool.execute(
        "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1", k
    )
    again = await post(client, {"item": item}, idem=k)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert await done_for(pool, "alice", item) == 2
    # Kept 24 h from the new claim.
    left = await pool.fetchval(
        "SELECT expires_at - now() FROM idempotency_keys WHERE caller = 'alice' AND key = $1", k
    )
    assert idempotency.KEY_TTL * 0.99 < left <= idempotency.KEY_TTL

    stale = [key() for _ in range(idempotency.PURGE_BATCH)]
    for s in stale:
        assert (await post(client, {"item": s}, idem=s, caller="old")).status_code == 201
    await pool.execute(
        "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE caller = 'old'"
    )
    await post(client, {"item": key()}, idem=key())
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys WHERE caller = 'old'") == 0
