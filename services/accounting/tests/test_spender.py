"""The spending account of a reservation, remembered after its first look-up (real PostgreSQL)."""

import contextlib
import uuid

import pytest

from accounting.accounts.consumers import UserRegisteredHandler
from accounting.accounts.service import AccountsService
from bus_events import UserRegistered, event_of
from event_bus import Event
from jwt_contract import Principal
from service_kit import ApiError


class CountingPool:
    """The real pool, counting how often a connection is taken."""

    def __init__(self, pool) -> None:
        self._pool = pool
        self.acquired = 0

    def acquire(self):
        self.acquired += 1
        return self._pool.acquire()


def principal(user_id: str, username: str, **claims) -> Principal:
    return Principal(
        user_id=user_id,
        username=username,
        email=f"{username}@example.com",
        role="enduser",
        token_type="access",
        token_id=str(uuid.uuid4()),
        expires_at=0,
        claims=claims,
    )


@pytest.fixture
def accounts(db, accounting_settings):
    return AccountsService(CountingPool(db), accounting_settings, auth=None)


async def test_a_users_account_is_looked_up_once(accounts):
    user = principal(str(uuid.uuid4()), f"sp{uuid.uuid4().hex[:8]}")

    first = await accounts.spender(user)
    second = await accounts.spender(user)

    account = await accounts.account_for(user)
    assert first == second
    assert (first.id, first.owner_id) == (account.id, user.user_id)
    assert accounts.pool.acquired == 2  # the first spender() and account_for, not the second


async def test_an_account_still_missing_its_username_is_looked_up_again(accounts, db):
    name = f"held{uuid.uuid4().hex[:8]}"
    await accounts.spender(principal(str(uuid.uuid4()), name))  # another owner has the name
    user = principal(str(uuid.uuid4()), name)

    first = await accounts.spender(user)
    second = await accounts.spender(user)

    assert first == second
    assert accounts.pool.acquired == 3  # each call read it: a later one may name it


async def test_a_team_account_is_looked_up_once_and_an_unknown_one_never_remembered(accounts, db):
    team = str(uuid.uuid4())
    async with db.acquire() as conn:
        account = await accounts.ensure_account(conn, "team", team, None)
    member = principal(str(uuid.uuid4()), "member", accountId=str(account.id))

    assert (await accounts.spender(member)).id == account.id
    assert (await accounts.spender(member)).owner_id == team
    assert accounts.pool.acquired == 1

    stranger = principal(str(uuid.uuid4()), "stranger", accountId=str(uuid.uuid4()))
    for _ in range(2):
        with pytest.raises(ApiError) as refused:
            await accounts.spender(stranger)
        assert refused.value.status == 404
    assert accounts.pool.acquired == 3


class LoggedPool(CountingPool):
    """Counting, and noting every statement sent on a connection it lends."""

    def __init__(self, pool) -> None:
        super().__init__(pool)
        self.sent: list[str] = []

    @contextlib.asynccontextmanager
    async def acquire(self):
        self.acquired += 1
        async with self._pool.acquire() as conn:
            conn.add_query_logger(self._note)
            try:
                yield conn
            finally:
                conn.remove_query_logger(self._note)

    def _note(self, logged) -> None:
        self.sent.append(logged.query.split()[0])


async def test_an_existing_named_account_is_read_in_one_statement(db, accounting_settings):
    user = principal(str(uuid.uuid4()), f"one{uuid.uuid4().hex[:8]}")
    made = await AccountsService(db, accounting_settings, auth=None).account_for(user)
    pool = LoggedPool(db)

    found = await AccountsService(pool, accounting_settings, auth=None).account_for(user)

    assert found == made
    assert pool.sent == ["SELECT"]  # no BEGIN, INSERT ... ON CONFLICT, SELECT, COMMIT


async def test_a_user_registered_here_needs_no_look_up_for_a_first_reservation(
    db, accounting_settings
):
    accounts = AccountsService(CountingPool(db), accounting_settings, auth=None)
    user_id, name = str(uuid.uuid4()), f"reg{uuid.uuid4().hex[:8]}"
    registered = UserRegistered(
        user_id=user_id, username=name, email=f"{name}@example.com", role="enduser"
    )
    await UserRegisteredHandler(db, accounts)(Event.from_dict(event_of(registered)))

    spender = await accounts.spender(principal(user_id, name))

    assert accounts.pool.acquired == 0
    async with db.acquire() as conn:
        account = await accounts.ensure_user_account(conn, user_id, name)
    assert (spender.id, spender.owner_id) == (account.id, user_id)
