"""GET /api/auth/me reads the user at most ACTIVE_USER_SECONDS ago: a change made here is
seen at once, one made elsewhere (another replica) within a second (CONTRACT.md)."""

import asyncio

import asyncpg
import pytest

from auth.users import service as users_service
from auth.users.repository import User
from service_kit import ApiError

from ..conftest import admin_token, bearer, register
from ..revocations.test_revocations import refused_within


def test_a_change_elsewhere_is_seen_within_the_contracts_second():
    assert 0 < users_service.ACTIVE_USER_SECONDS <= 0.5


async def test_a_user_disabled_by_another_replica_is_refused_within_a_second(client, postgres_url):
    user = await register(client)
    token = user["accessToken"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    # What another auth replica's PATCH leaves behind, without this process hearing of it.
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute("UPDATE users SET disabled = true WHERE id = $1", user["user"]["id"])
    finally:
        await conn.close()
    await refused_within(client, "/api/auth/me", token, seconds=1.0)


async def test_a_user_disabled_here_is_refused_at_once(client):
    user = await register(client)
    token = user["accessToken"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    admin = await admin_token(client)
    changed = await client.patch(
        f"/api/auth/users/{user['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    assert changed.status_code == 200
    # No wait: this process forgot the user when it changed them.
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401


class CountingPool:
    """A pool whose one connection answers the user query with ``row``, counting reads."""

    def __init__(self, row: dict) -> None:
        self.row = row
        self.reads = 0
        self.gate: asyncio.Event | None = None  # set: the read may finish
        self.reading = asyncio.Event()  # a read has begun

    def acquire(self) -> "CountingPool":
        return self

    async def __aenter__(self) -> "CountingPool":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def fetchrow(self, query: str, *args: object) -> dict:
        self.reads += 1
        self.reading.set()
        if self.gate is not None:
            await self.gate.wait()
        return dict(self.row)


def user_row(**changes) -> dict:
    row = {
        "id": "00000000-0000-0000-0000-000000000001",
        "username": "someone",
        "email": "someone@example.com",
        "password_hash": "x",
        "role": "enduser",
        "disabled": False,
        "token_version": 0,
        "created_at": None,
        "updated_at": None,
    }
    return {**row, **changes}


def service_on(pool: CountingPool, now: list[float]) -> users_service.UsersService:
    return users_service.UsersService(
        pool,  # type: ignore[arg-type]
        hasher=None,  # type: ignore[arg-type]
        signer=None,  # type: ignore[arg-type]
        relay=None,  # type: ignore[arg-type]
        settings=None,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )


async def test_an_enabled_user_is_read_once_per_window():
    pool, now = CountingPool(user_row()), [100.0]
    users = service_on(pool, now)
    user_id = pool.row["id"]
    first = await users.active_user(user_id)
    assert isinstance(first, User)
    await users.active_user(user_id)
    assert pool.reads == 1
    now[0] += users_service.ACTIVE_USER_SECONDS
    pool.row = user_row(disabled=True)
    with pytest.raises(ApiError, match="Invalid authentication token"):
        await users.active_user(user_id)
    assert pool.reads == 2
    with pytest.raises(ApiError, match="Invalid authentication token"):
        await users.active_user(user_id)  # a refusal is not remembered
    assert pool.reads == 3


async def test_a_read_overtaken_by_a_change_here_is_not_remembered():
    pool, now = CountingPool(user_row()), [100.0]
    users = service_on(pool, now)
    user_id = pool.row["id"]
    pool.gate = asyncio.Event()
    reading = asyncio.create_task(users.active_user(user_id))
    await pool.reading.wait()
    users._forget(user_id)  # what update_user does once it changed the user
    pool.gate.set()
    await reading
    pool.gate = None
    await users.active_user(user_id)
    assert pool.reads == 2, "the read from before the change was kept"
