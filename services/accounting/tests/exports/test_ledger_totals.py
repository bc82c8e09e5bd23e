"""An export's totals are the ledger's: over a range, its credits equal what the ledger charged
(settlements and direct charges) and its requests and tokens the usage records, for a user's
own answers, a personal key's, a team key's, and direct charges; a key's rows its spend."""

import uuid
from decimal import Decimal

import pytest

from accounting.ledger.check import CHECKS, find_problems

from ..conftest import balance
from ..key_budgets.keys import key_holder, key_spend
from .usage import (
    TITAN,
    account_id_of,
    answer,
    direct_charge,
    exported_rows,
    ledger_charged_micro,
    now,
    team_key,
)


def total_micro(rows: list[dict]) -> int:
    return int(sum(Decimal(str(r["credits"])) for r in rows) * 1_000_000)


def rfc3339(moment) -> str:
    return moment.isoformat()


async def usage_records(db, user_id: str, start, end) -> tuple[int, int, int]:
    row = await db.fetchrow(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0) "
        "FROM usage_records WHERE user_id = $1 AND created_at >= $2 AND created_at < $3",
        user_id,
        start,
        end,
    )
    return (row[0], row[1], row[2])


async def test_a_ranges_export_equals_the_ledgers_charges_keys_and_teams_included(client, auth, db):
    holder = await key_holder(client, auth, 100)
    owner = {**holder, "token": holder["owner_token"]}
    team = await team_key(client, auth, 50)
    await answer(client, owner, output_tokens=3000)  # before the range: not in it
    await answer(client, team, output_tokens=3000)
    start = await now(db)
    before = await balance(client, owner)

    await answer(client, owner, output_tokens=800, input_tokens=120)
    await answer(client, owner, model=TITAN, input_tokens=700, output_tokens=1900)
    await answer(client, holder, output_tokens=333, input_tokens=17)  # with the personal key
    await answer(client, holder, model=TITAN, output_tokens=2500)
    await direct_charge(client, holder, credits="0.123457")  # with the key, no model
    await direct_charge(client, owner, modelId=TITAN, inputTokens=4321, outputTokens=5)
    await answer(client, team, output_tokens=1234, input_tokens=99)  # with the team key
    await direct_charge(client, team, credits="2.5")
    end = await now(db)
    after = await balance(client, owner)
    await answer(client, owner, output_tokens=10)  # after the range: not in it

    span = {"from": rfc3339(start), "to": rfc3339(end)}
    rows = await exported_rows(
        client, holder["owner_token"], groupBy="day,model,user,team,key", **span
    )
    owner_account = await account_id_of(db, holder["id"])
    assert total_micro(rows) == await ledger_charged_micro(db, [owner_account], start, end) > 0
    assert (
        (
            sum(r["requests"] for r in rows),
            sum(r["inputTokens"] for r in rows),
            sum(r["outputTokens"] for r in rows),
        )
        == await usage_records(db, holder["id"], start, end)
        == (6, 5158, 5538)
    )
    spent = Decimal(str(before["totalCredits"])) - Decimal(str(after["totalCredits"]))
    assert total_micro(rows) == spent * 1_000_000

    # By key: the personal key's rows are all it ever spent (its whole life is in the range).
    by_key = await exported_rows(client, holder["owner_token"], groupBy="key", **span)
    spend = await key_spend(db, holder["key_id"])
    assert spend is not None
    (keyed,) = [r for r in by_key if r["keyId"] == holder["key_id"]]
    assert total_micro([keyed]) == spend.spent_micro and keyed["requests"] == 3
    assert {r["teamId"] for r in rows} == {None}

    # The team key's own export: its team's account, charged as the ledger says.
    team_rows = await exported_rows(client, team["token"], groupBy="team,key", **span)
    assert [(r["teamId"], r["keyId"], r["userId"]) for r in team_rows] == [
        (team["team_id"], team["key_id"], team["key_id"])
    ]
    assert total_micro(team_rows) == await ledger_charged_micro(
        db, [team["account_id"]], start, end
    )
    assert team_rows[0]["requests"] == 2
    team_spend = await key_spend(db, team["key_id"])
    assert team_spend is not None
    everything = await exported_rows(client, team["token"], groupBy="key", **{"to": span["to"]})
    assert total_micro(everything) == team_spend.spent_micro

    async with db.acquire() as conn:
        assert await find_problems(conn) == []


class Rollback(Exception):
    pass


async def test_the_ledger_check_catches_usage_the_ledger_never_charged(client, auth, db):
    user = await key_holder(client, auth, 5)
    account = await account_id_of(db, user["id"])
    with pytest.raises(Rollback):
        async with db.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO usage_records (account_id, user_id, service, operation, "
                "credits_micro, event_id) VALUES ($1, $2, 'chat', 'forged', 7, $3)",
                account,
                user["id"],
                uuid.uuid4(),
            )
            query = CHECKS["an account's usage records differ from what its ledger charged"]
            (forged,) = await conn.fetch(query)
            assert (forged["id"], forged["usage"] - forged["ledger"]) == (account, 7)
            raise Rollback
    async with db.acquire() as conn:
        assert await find_problems(conn) == []
