"""Usage made the ways accounting meets it, and exports read back, for the export tests:
answers settled through reservations (a user's own, a personal key's, a team key's) and
direct charges."""

import csv
import io
import uuid
from datetime import datetime

import asyncpg
import httpx

from auth.config import AuthSettings
from auth.keys.signing import build_signer, load_signing_key

from ..conftest import bearer, on_behalf, service_token, signed_service_headers
from ..key_budgets.keys import HAIKU

TITAN = "amazon.titan-text-express-v1"  # 0.2 in / 0.6 out per 1K tokens
PROVISIONING = signed_service_headers("provisioning")


async def answer(client, holder, *, input_tokens=0, output_tokens=0, model=HAIKU) -> float:
    """One answer held and settled for ``holder`` (a new_user, key_holder or team_key) as
    chat does it; what it charged."""
    held = await client.post(
        "/api/streaming-sessions/initialize",
        json={"sessionId": "export", "modelId": model, "estimatedTokens": 4000},
        headers=on_behalf(holder),
    )
    assert held.status_code == 201, held.text
    settled = await client.post(
        "/api/streaming-sessions/finalize",
        json={
            "streamingSessionId": held.json()["streamingSessionId"],
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
        },
        headers=on_behalf(holder),
    )
    assert settled.status_code == 200, settled.text
    return settled.json()["usedCredits"]


async def direct_charge(client, holder, **body) -> dict:
    """Usage recorded straight to the holder's account (``/api/usage/record``)."""
    response = await client.post(
        "/api/usage/record",
        json={"service": "chat", "operation": "export-test", **body},
        headers=on_behalf(holder),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def team_key(client, auth, credits) -> dict:
    """A funded team and the token of one of its keys, signed as auth signs a team key's
    (``sub`` the key, ``teamId``, ``accountId``, ``keyId``): {id, token, chat, team_id,
    key_id, account_id}."""
    team_id, key_id = f"team-{uuid.uuid4()}", str(uuid.uuid4())
    granted = await client.post(
        "/internal/grants",
        json={
            "ownerType": "team",
            "ownerId": team_id,
            "credits": credits,
            "idempotencyKey": f"export:{team_id}",
            "grantedBy": "export-test",
        },
        headers=PROVISIONING,
    )
    assert granted.status_code == 201, granted.text
    account_id = granted.json()["accountId"]
    token = _signed_access_token(
        sub=key_id,
        username="key:ci",
        extra={"teamId": team_id, "accountId": account_id, "keyId": key_id, "models": [HAIKU]},
    )
    return {
        "id": key_id,
        "token": token,
        "chat": await service_token(auth),
        "team_id": team_id,
        "key_id": key_id,
        "account_id": account_id,
    }


def _signed_access_token(*, sub: str, username: str, extra: dict) -> str:
    settings = AuthSettings(environment="test")
    signer = build_signer(settings, load_signing_key(settings))
    token, _ = signer.issue(
        user_id=sub,
        username=username,
        email="team-key@api-keys.invalid",
        role="enduser",
        token_type="access",
        ttl_seconds=3600,
        extra=extra,
    )
    return token


async def export(client, token: str, **params) -> httpx.Response:
    return await client.get("/api/usage/export", params=params, headers=bearer(token))


async def exported_rows(client, token: str, **params) -> list[dict]:
    """The JSON export's rows (``format=json``), after checking it is a success."""
    response = await export(client, token, format="json", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def now(db: asyncpg.Pool) -> datetime:
    """The database's clock: usage committed before this call is older than what it returns,
    usage committed after is newer."""
    moment: datetime = await db.fetchval("SELECT clock_timestamp()")
    return moment


async def ledger_charged_micro(db: asyncpg.Pool, account_ids, start, end) -> int:
    """What the ledger charged these accounts in ``[start, end)``: settlements and direct
    charges."""
    charged: int = await db.fetchval(
        """
        SELECT coalesce(sum(CASE kind WHEN 'settlement' THEN -held_delta
                                      ELSE -available_delta END), 0)
        FROM ledger_entries
        WHERE account_id = ANY($1::uuid[]) AND kind IN ('settlement', 'charge')
          AND created_at >= $2 AND created_at < $3
        """,
        [uuid.UUID(str(a)) for a in account_ids],
        start,
        end,
    )
    return charged


async def account_id_of(db: asyncpg.Pool, user_id: str) -> uuid.UUID:
    account_id: uuid.UUID = await db.fetchval(
        "SELECT id FROM accounts WHERE owner_type = 'user' AND owner_id = $1", user_id
    )
    return account_id
