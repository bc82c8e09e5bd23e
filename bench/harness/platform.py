"""The platform as the benches use it: throwaway users with credits, and sessions for them."""

import asyncio
import collections
import math
import time
import uuid
from dataclasses import dataclass, field

import httpx

from .clients import Pools, new_client
from .proc import rss_kib, service_pid
from .settings import ACCOUNTING_URL, AUTH_URL, CHAT_URL, MODEL, SIMULATOR_URL

PASSWORD = "Bench-Passw0rd!"
CREDITS_PER_USER = 500
SETUP_CONCURRENCY = 16


@dataclass
class User:
    username: str
    user_id: str
    token: str
    used: int = 0  # streams assigned so far

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Setup:
    """Time spent preparing, kept apart from what is measured."""

    registered: int = 0
    register_s: float = 0.0
    allocate_s: float = 0.0
    sessions: int = 0
    sessions_s: float = 0.0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)


class Platform:
    """Clients for the stack, the bench users (bench<run>u<n>, registered concurrently and
    given CREDITS_PER_USER as admin) and their sessions, at most ``per_user`` streams each."""

    def __init__(self, per_user: int, label: str = "bench") -> None:
        self.per_user = per_user
        self.label = label  # the sessions' title and the allocations' notes
        self.run = uuid.uuid4().hex[:6]
        self.users: list[User] = []
        self._named = 0
        self.setup = Setup()
        self.admin_token = ""
        pid = service_pid("chat")
        self.chat_rss_start = rss_kib(pid) if pid else 0
        self.auth = new_client(AUTH_URL)
        self.accounting = new_client(ACCOUNTING_URL)
        self.chat = new_client(CHAT_URL)  # setup requests only; streams use the pools
        self.streams = Pools(CHAT_URL)
        self.simulator = Pools(SIMULATOR_URL)

    async def aclose(self) -> None:
        for client in (self.auth, self.accounting, self.chat):
            await client.aclose()
        for pools in (self.streams, self.simulator):
            await pools.aclose()

    async def check(self) -> str | None:
        """Why the stack cannot be benchmarked, or None."""
        for name, client in [
            ("auth", self.auth),
            ("accounting", self.accounting),
            ("chat", self.chat),
            ("model simulator", self.simulator.client(0)),
        ]:
            try:
                (await client.get("/api/health")).raise_for_status()
            except httpx.HTTPError as exc:
                return f"no {name} service at {client.base_url} ({exc}); run make dev"
        return None

    async def login(self, username: str, password: str) -> str:
        response = await self.auth.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        response.raise_for_status()
        return str(response.json()["accessToken"])

    async def _register(self, name: str, gate: asyncio.Semaphore) -> User | None:
        async with gate:
            response = await self.auth.post(
                "/api/auth/register",
                json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
            )
        if response.status_code != 201:
            self.setup.failures[f"register: http {response.status_code}"] += 1
            return None
        body = response.json()
        return User(name, body["user"]["id"], body["accessToken"])

    async def _allocate(self, user: User, gate: asyncio.Semaphore) -> bool:
        async with gate:
            response = await self.accounting.post(
                "/api/credits/allocate",
                # By username: by id, a user whose user.registered event accounting has not
                # consumed yet is not found (its look-up in auth searches names, not ids).
                json={
                    "targetUserId": user.username,
                    "credits": CREDITS_PER_USER,
                    "notes": self.label,
                },
                headers={"Authorization": f"Bearer {self.admin_token}"},
            )
        if response.status_code != 201:
            self.setup.failures[f"allocate: http {response.status_code}"] += 1
        return response.status_code == 201

    async def register(self, count: int) -> None:
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)
        started = time.perf_counter()
        names = [f"bench{self.run}u{self._named + i}" for i in range(count)]
        self._named += count
        users = [u for u in await asyncio.gather(*(self._register(n, gate) for n in names)) if u]
        self.setup.register_s += time.perf_counter() - started
        started = time.perf_counter()
        funded = await asyncio.gather(*(self._allocate(u, gate) for u in users))
        self.setup.allocate_s += time.perf_counter() - started
        self.setup.registered += len(users)
        self.users.extend(u for u, ok in zip(users, funded, strict=True) if ok)

    async def users_for(self, streams: int) -> list[User]:
        """One user per stream, none past its share; registers more users when needed."""
        for _ in range(3):  # a registration or an allocation may fail: try again
            spare = sum(self.per_user - u.used for u in self.users)
            if spare >= streams:
                break
            await self.register(math.ceil((streams - spare) / self.per_user))
        chosen: list[User] = []
        for user in self.users:
            while user.used < self.per_user and len(chosen) < streams:
                user.used += 1
                chosen.append(user)
        if len(chosen) < streams:
            raise RuntimeError(
                f"only {len(chosen)} of {streams} streams have a funded user: "
                f"{dict(self.setup.failures)}"
            )
        return chosen

    async def _session(self, user: User, gate: asyncio.Semaphore) -> str | None:
        async with gate:
            response = await self.chat.post(
                "/api/chat/sessions",
                json={"title": self.label, "modelId": MODEL},
                headers=user.headers,
            )
        if response.status_code != 201:
            self.setup.failures[f"session: http {response.status_code}"] += 1
            return None
        return str(response.json()["sessionId"])

    async def prepare(self, streams: int, label: str) -> list[tuple[User, str]]:
        """A user and a new session (no history: every prompt is the same) per stream."""
        registered, register_s = self.setup.registered, self.setup.register_s
        allocate_s = self.setup.allocate_s
        users = await self.users_for(streams)
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)
        started = time.perf_counter()
        ids = await asyncio.gather(*(self._session(u, gate) for u in users))
        elapsed = time.perf_counter() - started
        self.setup.sessions_s += elapsed
        self.setup.sessions += len(users)
        pairs = [(u, s) for u, s in zip(users, ids, strict=True) if s is not None]
        new_users = self.setup.registered - registered
        registering = (
            f"{new_users} users registered in {self.setup.register_s - register_s:.1f} s "
            f"(credits {self.setup.allocate_s - allocate_s:.1f} s), "
            if new_users
            else ""
        )
        print(
            f"  setup for {label}: {registering}{len(pairs)} sessions in {elapsed:.1f} s "
            f"({len(pairs) / max(elapsed, 1e-9):.0f} /s)"
        )
        if len(pairs) < streams:
            print(f"  setup failures: {dict(self.setup.failures)}")
        return pairs

    def setup_summary(self) -> str:
        setup = self.setup
        return (
            f"setup in all: {setup.registered} users ({setup.register_s:.1f} s registering, "
            f"{setup.allocate_s:.1f} s allocating), {setup.sessions:,} sessions "
            f"({setup.sessions_s:.1f} s)"
            + (f"; failures {dict(setup.failures)}" if setup.failures else "")
        )
