"""Account creation against the real PostgreSQL: one account per owner however many first
requests race, and a username another owner holds never fails the creation."""

import asyncio
import uuid

from accounting.accounts import repository


async def get_or_create(db, owner_id: str, username: str | None):
    async with db.acquire() as conn, conn.transaction():
        return await repository.get_or_create(
            conn, owner_type="user", owner_id=owner_id, username=username
        )


async def test_thirty_first_requests_at_once_make_one_account_created_once(db):
    owner, name = str(uuid.uuid4()), f"race{uuid.uuid4().hex[:8]}"
    results = await asyncio.gather(*(get_or_create(db, owner, name) for _ in range(30)))
    assert len({account.id for account, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert {account.username for account, _ in results} == {name}


async def test_a_username_held_by_another_owner_leaves_the_new_account_unnamed(db):
    name = f"taken{uuid.uuid4().hex[:8]}"
    first, _ = await get_or_create(db, str(uuid.uuid4()), name)
    second, created = await get_or_create(db, str(uuid.uuid4()), name.upper())
    assert created and second.id != first.id
    assert second.username is None


async def test_a_known_username_is_filled_in_on_an_unnamed_account(db):
    owner, name = str(uuid.uuid4()), f"late{uuid.uuid4().hex[:8]}"
    unnamed, created = await get_or_create(db, owner, None)
    assert created and unnamed.username is None
    named, created = await get_or_create(db, owner, name)
    assert not created and named.id == unnamed.id and named.username == name
