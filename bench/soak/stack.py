"""The stack as the soak uses it: users funded by their plan's grant, their sessions and
streams (through the gateway or straight to chat), balances and prices from accounting."""

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from bench.harness import (
    ACCOUNTING_URL,
    AUTH_URL,
    CHAT_URL,
    GATEWAY_URL,
    MODEL,
    Stream,
    User,
    chat_stream,
)

PASSWORD = "Soak-Passw0rd!"
TOKEN_REFRESH_SECONDS = 600  # access tokens live 15 minutes
GRANT_SECONDS = 30  # the longest wait for a new user's plan grant


@dataclass
class SoakUser(User):
    refresh: str = ""
    since: float = field(default_factory=time.perf_counter)  # when its token was issued
    before: Decimal = Decimal(0)  # its balance before the soak


@dataclass
class Answer:
    user: SoakUser
    started: float  # time.perf_counter(), as the SSE receive times
    stream: Stream = field(default_factory=Stream)

    @property
    def outcome(self) -> str:
        return self.stream.outcome


class Stack:
    def __init__(self, via: str) -> None:
        timeout = httpx.Timeout(connect=10, read=60, write=10, pool=None)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        self.entry = httpx.AsyncClient(base_url=GATEWAY_URL, timeout=timeout, limits=limits)
        self.auth = httpx.AsyncClient(base_url=AUTH_URL, timeout=timeout, limits=limits)
        self.accounting = httpx.AsyncClient(base_url=ACCOUNTING_URL, timeout=timeout)
        self.chat = (
            self.entry
            if via == "gateway"
            else httpx.AsyncClient(base_url=CHAT_URL, timeout=timeout, limits=limits)
        )
        self._prices: dict[tuple[str, int, int], Decimal] = {}

    async def aclose(self) -> None:
        for client in {self.entry, self.auth, self.accounting, self.chat}:
            await client.aclose()

    async def check(self) -> str | None:
        for name, client in [
            ("gateway", self.entry),
            ("auth", self.auth),
            ("accounting", self.accounting),
            ("chat", self.chat),
        ]:
            try:
                (await client.get("/api/health/ready")).raise_for_status()
            except httpx.HTTPError as exc:
                return f"{name} at {client.base_url} is not ready ({exc}); run make dev"
        return None

    async def register(self, name: str) -> SoakUser:
        response = await self.auth.post(
            "/api/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        response.raise_for_status()
        body = response.json()
        user = SoakUser(name, body["user"]["id"], body["accessToken"], refresh=body["refreshToken"])
        deadline = time.perf_counter() + GRANT_SECONDS
        while True:  # the plan's grant comes over the bus
            user.before = (await self.balance(user))[0]
            if user.before > 0:
                return user
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{name} got no plan grant in {GRANT_SECONDS} s")
            await asyncio.sleep(0.2)

    async def fresh_token(self, user: SoakUser) -> None:
        if time.perf_counter() - user.since < TOKEN_REFRESH_SECONDS:
            return
        response = await self.auth.post("/api/auth/refresh", json={"refreshToken": user.refresh})
        response.raise_for_status()
        user.token, user.refresh = response.json()["accessToken"], response.json()["refreshToken"]
        user.since = time.perf_counter()

    async def balance(self, user: User) -> tuple[Decimal, Decimal]:
        """(total, reserved) credits."""
        response = await self.accounting.get("/api/credits/balance", headers=user.headers)
        response.raise_for_status()
        body = response.json()
        return Decimal(str(body["totalCredits"])), Decimal(str(body["reservedCredits"]))

    async def usage_credits(self, user: User) -> Decimal:
        response = await self.accounting.get("/api/usage/stats", headers=user.headers)
        response.raise_for_status()
        return Decimal(str(response.json()["totals"]["credits"]))

    async def price(self, user: User, input_tokens: int, output_tokens: int) -> Decimal:
        key = (MODEL, input_tokens, output_tokens)
        if key not in self._prices:
            response = await self.accounting.post(
                "/api/credits/calculate",
                json={"modelId": MODEL, "inputTokens": input_tokens, "outputTokens": output_tokens},
                headers=user.headers,
            )
            response.raise_for_status()
            self._prices[key] = Decimal(str(response.json()["credits"]))
        return self._prices[key]

    async def new_session(self, user: User) -> str | None:
        response = await self.chat.post(
            "/api/chat/sessions",
            json={"title": "bench.soak", "modelId": MODEL},
            headers=user.headers,
        )
        return str(response.json()["sessionId"]) if response.status_code == 201 else None

    async def stream(self, answer: Answer, session_id: str, message: str) -> None:
        await chat_stream(self.chat, answer.user, session_id, message, answer.stream)
