"""Chat's accounting client against a raw HTTP server: what it sends, and that an answer it
cannot use is a 503 (no credit check, no model call), never a 500."""

import asyncio
import contextlib
import json

import pytest

from chat.accounting.client import AccountingClient
from service_client import ServiceClient
from service_kit import ApiError


class FixedToken:
    """Chat's service token, as ServiceTokens would give it."""

    async def token(self) -> str:
        return "chat-service-token"

    def invalidate(self, token: str) -> None:
        pass


def client_for(url: str) -> AccountingClient:
    return AccountingClient(ServiceClient(url, "accounting", FixedToken()))


@contextlib.asynccontextmanager
async def accounting_answering(status: int, body: bytes, seen: list[tuple[bytes, bytes]]):
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    0,
                )
                seen.append((head, await reader.readexactly(length)))
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%b" % (status, len(body), body)
                )
                await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/ledger/"
    finally:
        server.close()


async def test_a_reservation_sends_chats_token_the_users_and_json_under_the_base_path():
    seen: list[tuple[bytes, bytes]] = []
    reply = json.dumps(
        {
            "streamingSessionId": "r-1",
            "allocatedCredits": 0.25,
            "expiresAt": "2030-01-01T00:00:00+00:00",
        }
    ).encode()
    async with accounting_answering(201, reply, seen) as url:
        client = client_for(url)
        reservation = await client.reserve("tok", session_id="s", model_id="m", estimated_tokens=9)
        await client.aclose()
    head, body = seen[0]
    assert head.startswith(b"POST /ledger/api/streaming-sessions/initialize HTTP/1.1\r\n")
    assert b"\r\nauthorization: Bearer chat-service-token\r\n" in head
    assert b"\r\nx-on-behalf-of: Bearer tok\r\n" in head
    assert json.loads(body) == {"sessionId": "s", "modelId": "m", "estimatedTokens": 9}
    assert (reservation.id, str(reservation.allocated_credits)) == ("r-1", "0.25")


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"<html>Internal Server Error</html>"), (201, b"not json"), (201, b'{"other": 1}')],
)
async def test_an_answer_chat_cannot_use_is_503_for_a_reservation(status, body):
    async with accounting_answering(status, body, []) as url:
        client = client_for(url)
        with pytest.raises(ApiError) as refused:
            await client.reserve("tok", session_id="s", model_id="m", estimated_tokens=1)
        await client.aclose()
    assert (refused.value.status, refused.value.code) == (503, "accounting_unavailable")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("key_budget_exceeded", "key_budget_exceeded"),
        ("insufficient_credits", "insufficient_credits"),
    ],
)
async def test_a_refused_reservation_says_whether_the_key_or_the_balance_ran_out(code, expected):
    details = {"keyId": "k", "budgetCredits": 5, "spentCredits": 5, "askedCredits": 1}
    body = json.dumps({"message": "no", "code": code, "details": details}).encode()
    async with accounting_answering(402, body, []) as url:
        client = client_for(url)
        with pytest.raises(ApiError) as refused:
            await client.reserve("tok", session_id="s", model_id="m", estimated_tokens=1)
        await client.aclose()
    assert (refused.value.status, refused.value.code) == (402, expected)
    assert refused.value.details == details


async def test_a_malformed_settlement_leaves_the_charge_to_the_usage_event():
    async with accounting_answering(200, b"{}", []) as url:
        client = client_for(url)
        charged = await client.finalize(
            streaming_session_id="r", input_tokens=1, output_tokens=1, success=True
        )
        await client.aclose()
    assert charged is None
