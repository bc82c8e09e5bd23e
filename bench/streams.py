"""Streaming benchmark: time to first token through chat against the model simulator's own,
the concurrent streams one chat process holds, and how late a supervisor sees each chunk.

    uv run python bench/streams.py [--ttft-bursts 4,2] [--sustained 50,200] [--sustained-rounds 3]
                                   [--sustained-tokens 40] [--cpu-streams 300]
                                   [--observed 50] [--observe-tokens 100]
                                   [--levels 250,500,1000,2000] [--start-rate 100]
                                   [--hold-seconds 10] [--budget 80] [--min-level 25]
                                   [--streams-per-user 4] [--quiet-wait 20]

Needs the local stack (`make dev`): auth, accounting, chat and the model simulator on
127.0.0.1. It registers throwaway users (bench<run>u<n>) concurrently, gives each credits as
admin and spreads the streams over them, at most --streams-per-user each over the whole run
(chat allows REQUESTS_PER_MINUTE=30 writes and SESSION_CREATES_PER_MINUTE=8 new sessions per
user, and a stream here is two writes). Every stream has a new session of its own, so
every prompt is the same; sessions are left behind, every connection is closed at the end.
The model is chat's default (Bedrock ConverseStream through boto3, open to endusers).

Figures, in one run (setup time is printed apart from what is measured):
  (a) time to first token at 50 and 200 concurrent streams (bursts of that many requests at
      once; chat's on a settled stack): through chat (POST .../stream, from sending the
      request to the first `chunk` event) and straight to the simulator (the same model and
      prompt on its OpenAI streaming route, to the first content delta; its Bedrock route too,
      for reference), p50 and p99. The difference of the percentiles is the platform's
      overhead (target p50 <= 5 ms, p99 <= 20 ms). The prompt asks for no first-token delay
      and an 8-token answer, all at once.
  (a') the same comparison with 50 and 200 streams open all along: each of that many workers
      runs --sustained-rounds streams back to back (--sustained-tokens-token answers at 20
      tokens/s), their first ones spread over one answer's length; the first round is the
      ramp and is not counted. Bursts measure a crowd pressing send in the same millisecond,
      which on a small machine is mostly queueing for CPU; this is a platform serving that
      many answers at once.
  (d) the CPU each process of the stack spends per 8-token answer (--cpu-streams answers, 10
      at a time, /proc utime+stime from before to after, until chat and MongoDB are quiet).
  (c) supervisor1 observes --observed sessions while their users stream at 20 tokens/s: for
      each chunk, supervisor receive time - user receive time, matched by SSE id (target
      p99 <= 5 ms). Twice: observing on the chat process that serves the streams (its
      observers get chunks straight from the answer), then on a second chat replica, which
      gets them through Redis pub/sub (the bench starts one on port 3012 with
      the local stack's settings, and stops it after; set CHAT_B_URL to use a running one).
      Run before (b), which leaves the stack busy for a while.
  (b) levels of concurrent streams at 20 tokens/s each: a level's streams start at
      --start-rate a second and each lasts until all have run together for --hold-seconds.
      A level is held when every stream completes with all its tokens, at least 95% of them
      were streaming at once and at most 1% delivered under 90% of 20 tokens/s. Stops at the
      first level not held (when none has held yet, halves it down to --min-level) or when
      --budget seconds are spent; reports the highest level held (target >= 2,000) and the
      chat process's RSS (/proc/<pid>/status VmRSS, pid from .local/run/chat.pid) before and
      at the peak, per stream.
  (b') boto3's own CPU per streamed event, --boto3-streams calls at once from threads in this
      process and nothing else: chat must spend at least that per token, which bounds (b).
Every section prints the CPU the stack's processes and this one used, in cores (1.00 = one
core busy the whole time), and says so when the bench client saturated a core; what the chat
process logged meanwhile (warnings, errors: .local/logs/chat.log); and how many usage records
the chat's outbox relay has still to publish (MongoDB), since that work competes with streams.
"""

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import re
import signal
import ssl
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

try:
    import uvloop  # a cheaper event loop for the client: it matters at 2,000 streams
except ImportError:
    uvloop = None

AUTH_URL = os.environ.get("AUTH_URL", "http://127.0.0.1:3000")
ACCOUNTING_URL = os.environ.get("ACCOUNTING_URL", "http://127.0.0.1:3001")
CHAT_URL = os.environ.get("CHAT_URL", "http://127.0.0.1:3002")
CHAT_B_URL = os.environ.get("CHAT_B_URL")  # a second chat replica; the bench starts one if unset
CHAT_B_PORT = 3012
SIMULATOR_URL = os.environ.get("SIMULATOR_URL", "http://127.0.0.1:3005")
MONGO_URL = os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017")
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "chat")
RUN_DIR = Path(__file__).resolve().parent.parent / ".local" / "run"
LOG_DIR = RUN_DIR.parent / "logs"
LOCAL_STACK_DIR = Path(__file__).resolve().parent.parent / "deploy" / "local"

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"  # chat's default model, open to endusers
MAX_TOKENS = 1024  # what chat asks the model for (MAX_OUTPUT_TOKENS)
PASSWORD = "Bench-Passw0rd!"
CREDITS_PER_USER = 500
SUPERVISOR = ("supervisor1", "Supervisor1@")
ADMIN = ("admin", "admin@admin")
PACE = 20.0  # tokens per second in (b) and (c)
SATURATED = 0.9  # bench CPU (cores) from which the client is the bottleneck
STREAMS_PER_CLIENT = 16  # see Pools
SETTLE_SECONDS = 5.0  # the longest wait for a quiet stack between bursts and levels

CLIENT_LIMITS = httpx.Limits(
    max_connections=None, max_keepalive_connections=STREAMS_PER_CLIENT * 2, keepalive_expiry=4
)
CLIENT_TIMEOUT = httpx.Timeout(connect=15, read=40, write=15, pool=None)
TLS = ssl.create_default_context()  # never used (http://), but httpx builds one per client


def new_client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, limits=CLIENT_LIMITS, timeout=CLIENT_TIMEOUT, verify=TLS
    )


def prompt(text: str, *, tokens: int, per_second: float) -> str:
    return (
        f"{text} [[sim:first-token-delay-ms=0]] [[sim:answer-tokens={tokens}]] "
        f"[[sim:tokens-per-second={per_second:g}]]"
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


class Pools:
    """Many small httpx clients, one per STREAMS_PER_CLIENT streams.

    httpcore's connection pool walks every connection of the pool for every request it
    queues or releases (and asks each socket whether it has expired): with one pool of 200
    connections a burst spends seconds in that bookkeeping before sending anything, which
    would be measured as the server's latency.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._clients: list[httpx.AsyncClient] = []

    def client(self, stream: int) -> httpx.AsyncClient:
        index = stream // STREAMS_PER_CLIENT
        while len(self._clients) <= index:
            self._clients.append(new_client(self._base_url))
        return self._clients[index]

    async def warm(self, streams: int) -> None:
        """Open the connections a burst of ``streams`` will use (not TCP handshakes measured)."""
        await asyncio.gather(
            *(self.client(i).get("/api/health") for i in range(streams)), return_exceptions=True
        )

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()


# --- processes: CPU and memory from /proc -------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_kib(pid: int) -> int:
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                children = _read(f"/proc/{current}/task/{task}/children") or ""
                todo.extend(int(child) for child in children.split())
    return found


def stack_processes() -> dict[str, list[int]]:
    """The local stack's processes by name: the services from .local/run/*.pid (with their
    children: the MongoDB pid file names the uvx wrapper), Redis, PostgreSQL and RabbitMQ."""
    named: dict[str, list[int]] = {}
    for pid_file in sorted(RUN_DIR.glob("*.pid")):
        text = (_read(str(pid_file)) or "").strip()
        if text.isdigit() and os.path.isdir(f"/proc/{text}"):
            name = "mongodb" if pid_file.stem == "secantusdb" else pid_file.stem
            named[name] = descendants(int(text))
    by_command = {"redis-server": "redis", "postgres": "postgres", "beam.smp": "rabbitmq"}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            command = (_read(f"/proc/{entry}/comm") or "").strip()
            if command in by_command:
                named.setdefault(by_command[command], []).append(int(entry))
    return named


def machine_cpu_seconds() -> float:
    """CPU time all processes used (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in (_read("/proc/stat") or "cpu 0").splitlines()[0].split()[1:]]
    idle = sum(fields[3:5])
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def chat_process() -> int | None:
    text = (_read(str(RUN_DIR / "chat.pid")) or "").strip()
    return int(text) if text.isdigit() and os.path.isdir(f"/proc/{text}") else None


class CpuMeter:
    """CPU time of the stack's processes and of this one over a stretch of wall time."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self._processes = processes
        self._started = 0.0
        self._before: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        usage = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self._processes.items()}
        usage["bench"] = time.process_time()
        usage["machine"] = machine_cpu_seconds()
        return usage

    def start(self) -> "CpuMeter":
        self._before, self._started = self._now(), time.perf_counter()
        return self

    def stop(self) -> dict[str, float]:
        after, elapsed = self._now(), time.perf_counter() - self._started
        cores = {name: (after[name] - self._before.get(name, 0.0)) / elapsed for name in after}
        # Whatever else ran on the machine meanwhile (another test run, say).
        cores["other"] = max(0.0, cores.pop("machine") - sum(cores.values()))
        return cores


ORDER = ["chat", "model-simulator", "accounting", "auth", "mongodb", "redis", "postgres"]


def print_cpu(cores: dict[str, float]) -> None:
    mine = [*ORDER, "bench", "other"]
    names = [n for n in ORDER if n in cores] + [n for n in cores if n not in mine]
    parts = [f"{n} {cores[n]:.2f}" for n in names if cores[n] >= 0.005]
    print(
        f"  CPU, cores: {'  '.join(parts)}   this bench {cores['bench']:.2f}   "
        f"other processes {cores['other']:.2f}"
    )
    if cores["bench"] >= SATURATED:
        print(
            "  note: the bench client itself kept a core busy; figures above are bounded by it "
            "as much as by the platform"
        )


@dataclass
class Settler:
    """Waits, before each burst or level, until chat and MongoDB are nearly idle: the answers
    before have been stored and the outbox relay has published their usage records."""

    processes: dict[str, list[int]]
    waited: float = 0.0
    busy: int = 0  # times the stack was still busy after SETTLE_SECONDS

    async def __call__(self, limit: float = SETTLE_SECONDS) -> None:
        pids = self.processes.get("chat", []) + self.processes.get("mongodb", [])
        started = time.perf_counter()
        while True:
            before = sum(cpu_seconds(p) for p in pids)
            await asyncio.sleep(0.25)
            if (sum(cpu_seconds(p) for p in pids) - before) / 0.25 < 0.15:
                break
            if time.perf_counter() - started >= limit:
                self.busy += 1
                break
        self.waited += time.perf_counter() - started

    def report(self) -> str:
        busy = f", still busy after {SETTLE_SECONDS:g} s {self.busy} times" if self.busy else ""
        return f"waited {self.waited:.0f} s in all for chat and MongoDB to go quiet{busy}"


class LogWatch:
    """Warnings and errors the local stack's chat process logged (JSON lines) meanwhile."""

    def __init__(self, service: str = "chat") -> None:
        self._path = LOG_DIR / f"{service}.log"
        self._offset: int | None = None

    def start(self) -> "LogWatch":
        with contextlib.suppress(OSError):
            self._offset = self._path.stat().st_size
        return self

    def stop(self) -> collections.Counter:
        found: collections.Counter = collections.Counter()
        if self._offset is None:
            return found
        with contextlib.suppress(OSError), open(self._path, "rb") as log:
            log.seek(self._offset)
            for line in log:
                if b'"WARNING"' not in line and b'"ERROR"' not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                error = f" ({str(entry['error'])[:60]})" if entry.get("error") else ""
                found[f"{entry.get('level')} {entry.get('message')}{error}"] += 1
        return found


def print_log(found: collections.Counter) -> None:
    if found:
        worst = "; ".join(f"{n:,} x {what}" for what, n in found.most_common(3))
        print(f"  chat log meanwhile: {worst}")


async def usage_backlog() -> int | None:
    """Answers whose usage record the chat's relay has not published yet (MongoDB outbox)."""
    client = AsyncMongoClient(MONGO_URL, serverSelectionTimeoutMS=2000)
    try:
        return await client[MONGO_DATABASE].messages.count_documents({"usagePending": True})
    except PyMongoError:
        return None
    finally:
        await client.close()


async def print_backlog() -> None:
    backlog = await usage_backlog()
    if backlog:
        print(f"  usage records the chat's relay has still to publish: {backlog:,}")


# --- Server-Sent Events and streams -------------------------------------------------------


async def sse_events(
    response: httpx.Response,
) -> AsyncIterator[tuple[str, str | None, bytes, float]]:
    """(event, id, data, receive time) for each event; comments (heartbeats) are skipped.
    The receive time is when the bytes that complete the event arrived."""
    buffer = b""
    async for data in response.aiter_raw():
        received = time.perf_counter()
        buffer = (buffer + data).replace(b"\r\n", b"\n")
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            event, event_id, payload = "message", None, []
            for line in block.split(b"\n"):
                if not line or line[0] == 58:  # ":" starts a comment
                    continue
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"event":
                    event = value.decode()
                elif name == b"id":
                    event_id = value.decode()
                elif name == b"data":
                    payload.append(value)
            if payload:
                yield event, event_id, b"\n".join(payload), received


@dataclass
class Stream:
    """What one stream did, in perf_counter seconds."""

    started: float = 0.0
    first: float | None = None  # first chunk (or content delta)
    last: float | None = None
    chunks: int = 0
    outcome: str = ""  # "complete", or what went wrong; "" = still running or cancelled
    chunk_times: dict[str, float] | None = None  # SSE id -> receive time, when asked for

    @property
    def ttft(self) -> float | None:
        return None if self.first is None else self.first - self.started

    @property
    def streaming(self) -> bool:
        return self.first is not None and not self.outcome

    def rate(self) -> float | None:
        if self.chunks < 2 or self.first is None or self.last is None or self.last <= self.first:
            return None
        return (self.chunks - 1) / (self.last - self.first)


async def _refusal(response: httpx.Response) -> str:
    await response.aread()
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    return f"http {response.status_code} {code}".strip()


async def chat_stream(
    client: httpx.AsyncClient, user: "User", session_id: str, message: str, result: Stream
) -> None:
    result.started = time.perf_counter()
    try:
        async with client.stream(
            "POST",
            f"/api/chat/sessions/{session_id}/stream",
            json={"message": message},
            headers=user.headers,
        ) as response:
            if response.status_code != 200:
                result.outcome = await _refusal(response)
                return
            async for event, event_id, data, received in sse_events(response):
                if event == "chunk":
                    if result.first is None:
                        result.first = received
                    result.last = received
                    result.chunks += 1
                    if result.chunk_times is not None:
                        result.chunk_times[event_id] = received
                elif event == "complete":
                    result.outcome = "complete"
                    return
                elif event == "error":
                    result.outcome = f"error event {json.loads(data).get('code', '')}"
                    return
            result.outcome = "ended without complete"
    except httpx.HTTPError as exc:
        result.outcome = type(exc).__name__


async def simulator_openai(client: httpx.AsyncClient, message: str, result: Stream) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": message}],
        "max_tokens": MAX_TOKENS,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    result.started = time.perf_counter()
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                result.outcome = await _refusal(response)
                return
            buffer = b""
            async for data in response.aiter_raw():
                received = time.perf_counter()
                *lines, buffer = (buffer + data).split(b"\n")
                for line in lines:
                    if line == b"data: [DONE]":
                        result.outcome = "complete" if result.chunks else "no content"
                    elif line.startswith(b"data: {"):
                        choices = json.loads(line[6:]).get("choices") or ()
                        if any((c.get("delta") or {}).get("content") for c in choices):
                            result.first = result.first or received
                            result.last = received
                            result.chunks += 1
            result.outcome = result.outcome or "ended without [DONE]"
    except httpx.HTTPError as exc:
        result.outcome = type(exc).__name__


async def simulator_bedrock(client: httpx.AsyncClient, message: str, result: Stream) -> None:
    """ConverseStream read raw: the first `contentBlockDelta` frame is the first token."""
    body = {
        "messages": [{"role": "user", "content": [{"text": message}]}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS},
    }
    result.started = time.perf_counter()
    try:
        async with client.stream("POST", f"/model/{MODEL}/converse-stream", json=body) as resp:
            if resp.status_code != 200:
                result.outcome = await _refusal(resp)
                return
            tail = b""
            async for data in resp.aiter_raw():
                received = time.perf_counter()
                if result.first is None and b"contentBlockDelta" in tail + data:
                    result.first = received
                tail = data[-32:]
            result.outcome = "complete" if result.first is not None else "no content"
    except httpx.HTTPError as exc:
        result.outcome = type(exc).__name__


# --- users and sessions ---------------------------------------------------------------------


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
    failures: collections.Counter = field(default_factory=collections.Counter)


class Platform:
    """Clients for the stack, the bench users and their sessions."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self.run = uuid.uuid4().hex[:6]
        self.users: list[User] = []
        self._named = 0
        self.setup = Setup()
        self.admin_token = ""
        pid = chat_process()
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
        return response.json()["accessToken"]

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
                    "notes": "bench/streams.py",
                },
                headers={"Authorization": f"Bearer {self.admin_token}"},
            )
        if response.status_code != 201:
            self.setup.failures[f"allocate: http {response.status_code}"] += 1
        return response.status_code == 201

    async def register(self, count: int) -> None:
        gate = asyncio.Semaphore(16)
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
                json={"title": "bench/streams.py", "modelId": MODEL},
                headers=user.headers,
            )
        if response.status_code != 201:
            self.setup.failures[f"session: http {response.status_code}"] += 1
            return None
        return response.json()["sessionId"]

    async def prepare(self, streams: int, label: str) -> list[tuple[User, str]]:
        """A user and a new session (no history: every prompt is the same) per stream."""
        registered, register_s = self.setup.registered, self.setup.register_s
        allocate_s = self.setup.allocate_s
        users = await self.users_for(streams)
        gate = asyncio.Semaphore(16)
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


# --- (a) time to first token ----------------------------------------------------------------


@dataclass
class TtftRow:
    concurrency: int
    direct: list[float] = field(default_factory=list)  # OpenAI route
    bedrock: list[float] = field(default_factory=list)
    chat: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    server: dict[float, float] = field(default_factory=dict)  # chat's histogram, this row's

    def overhead(self) -> tuple[float, float]:
        return (
            percentile(self.chat, 50) - percentile(self.direct, 50),
            percentile(self.chat, 99) - percentile(self.direct, 99),
        )


async def ttft_histogram(client: httpx.AsyncClient) -> dict[float, float]:
    """chat_time_to_first_token_seconds for MODEL: upper bound (s) -> cumulative count. The
    chat process times it from starting the answer (its session found) to the first chunk:
    request limit, history, credit reservation, the model call and the first token."""
    try:
        text = (await client.get("/metrics", timeout=5)).text
    except httpx.HTTPError:
        return {}
    buckets = {}
    for line in text.splitlines():
        if line.startswith("chat_time_to_first_token_seconds_bucket") and MODEL in line:
            if bound := re.search(r'le="([^"]+)"', line):
                buckets[float(bound.group(1))] = float(line.rsplit(" ", 1)[1])
    return buckets


def bucket_percentile(buckets: dict[float, float], p: float) -> str:
    total = buckets.get(math.inf, 0.0)
    if total <= 0:
        return "?"
    for bound in sorted(buckets):
        if buckets[bound] >= p / 100 * total:
            return f"<= {bound * 1000:,.0f} ms" if bound != math.inf else "> 10 s"
    return "?"


def print_ttft_rows(rows: list[TtftRow], *, with_bedrock: bool) -> None:
    print(f"  {'':36}{'streams':>8}{'p50 ms':>9}{'p99 ms':>9}{'samples':>9}")
    for row in rows:
        series = [("simulator, OpenAI route (direct)", row.direct)]
        if with_bedrock:
            series.append(("simulator, Bedrock route (direct)", row.bedrock))
        series.append(("chat service (Bedrock via boto3)", row.chat))
        for label, values in series:
            print(
                f"  {label:36}{row.concurrency:>8}{percentile(values, 50) * 1000:>9.1f}"
                f"{percentile(values, 99) * 1000:>9.1f}{len(values):>9}"
            )
        p50, p99 = row.overhead()
        print(
            f"  {'platform overhead (chat - OpenAI)':36}{row.concurrency:>8}{p50 * 1000:>9.1f}"
            f"{p99 * 1000:>9.1f}{'':>9}   (target p50 <= 5 ms, p99 <= 20 ms)"
        )
        print(
            f"  {'':4}of which chat's own (its TTFT histogram, from its session found to the "
            f"first chunk): p50 {bucket_percentile(row.server, 50)}, p99 "
            f"{bucket_percentile(row.server, 99)}"
        )
        if row.errors:
            print(f"  errors at {row.concurrency}: {dict(row.errors)}")


async def burst(
    count: int, start: Callable[[int, Stream], Awaitable[None]]
) -> tuple[list[float], collections.Counter]:
    results = [Stream() for _ in range(count)]
    await asyncio.gather(*(start(i, r) for i, r in enumerate(results)))
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    return [r.ttft for r in results if r.ttft is not None], errors


async def section_ttft(platform: Platform, plan: list[tuple[int, int]]) -> list[TtftRow]:
    message = prompt("Benchmark: answer briefly.", tokens=8, per_second=0)
    warmup = 10
    pairs = await platform.prepare(warmup + sum(c * b for c, b in plan), "(a)")
    started = time.perf_counter()
    processes = stack_processes()
    settle = Settler(processes)
    meter, watch = CpuMeter(processes).start(), LogWatch().start()
    used = 0

    async def chat_burst(count: int) -> tuple[list[float], collections.Counter]:
        nonlocal used
        mine = pairs[used : used + count]
        used += count

        async def start(i: int, result: Stream) -> None:
            user, session_id = mine[i]
            await chat_stream(platform.streams.client(i), user, session_id, message, result)

        await platform.streams.warm(len(mine))
        return await burst(len(mine), start)

    def direct_burst(route) -> Callable[[int], Awaitable]:
        async def run(count: int) -> tuple[list[float], collections.Counter]:
            await platform.simulator.warm(count)
            return await burst(count, lambda i, r: route(platform.simulator.client(i), message, r))

        return run

    openai_burst, bedrock_burst = direct_burst(simulator_openai), direct_burst(simulator_bedrock)
    await openai_burst(warmup)
    await bedrock_burst(warmup)
    await chat_burst(warmup)
    rows = []
    for concurrency, bursts in plan:
        row = TtftRow(concurrency)
        before = await ttft_histogram(platform.chat)
        for _ in range(bursts):
            for values, route in [
                (row.direct, openai_burst),
                (row.bedrock, bedrock_burst),
                (row.chat, chat_burst),
            ]:
                if route is chat_burst:  # the direct bursts leave nothing behind
                    await settle()
                times, errors = await route(concurrency)
                values.extend(times)
                row.errors.update(errors)
        after = await ttft_histogram(platform.chat)
        row.server = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
        rows.append(row)
    cores, logged = meter.stop(), watch.stop()

    print(
        "(a) time to first token, 8-token answer, first-token delay 0, bursts of concurrent "
        f"streams ({time.perf_counter() - started:.0f} s):"
    )
    print_ttft_rows(rows, with_bedrock=True)
    print(f"  {settle.report()}")
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    return rows


async def sustained(
    count: int, rounds: int, seconds: float, start: Callable[[int, int, Stream], Awaitable[None]]
) -> tuple[list[float], collections.Counter]:
    """``count`` streams open at once, kept there: each of ``count`` workers runs ``rounds``
    streams back to back, the workers' first streams spread over one answer's length
    (``seconds``) rather than all sent together. The first round (the ramp) is not counted."""
    results = [[Stream() for _ in range(rounds)] for _ in range(count)]

    async def worker(w: int) -> None:
        await asyncio.sleep(w * seconds / count)
        for r in range(rounds):
            await start(r * count + w, w, results[w][r])

    await asyncio.gather(*(worker(w) for w in range(count)))
    counted = [result for mine in results for result in mine[1:]]
    errors = collections.Counter(r.outcome for r in counted if r.outcome != "complete")
    return [r.ttft for r in counted if r.ttft is not None], errors


async def section_ttft_sustained(
    platform: Platform, levels: list[int], rounds: int, tokens: int
) -> list[TtftRow]:
    """(a') The same comparison with each level's streams open all the time, at PACE tokens/s,
    new ones starting as others end: what a user sees on a platform serving that many answers,
    as opposed to that many users pressing send in the same millisecond."""
    message = prompt("Benchmark: answer at a steady pace.", tokens=tokens, per_second=PACE)
    seconds = tokens / PACE
    pairs = await platform.prepare(sum(level * rounds for level in levels), "(a')")
    started = time.perf_counter()
    processes = stack_processes()
    settle = Settler(processes)
    meter, watch = CpuMeter(processes).start(), LogWatch().start()
    used, rows = 0, []
    for level in levels:
        row = TtftRow(level)
        mine = pairs[used : used + level * rounds]
        used += level * rounds

        async def chat_one(i: int, w: int, result: Stream, mine=mine) -> None:
            user, session_id = mine[i]
            await chat_stream(platform.streams.client(w), user, session_id, message, result)

        async def direct_one(i: int, w: int, result: Stream) -> None:
            await simulator_openai(platform.simulator.client(w), message, result)

        await platform.simulator.warm(level)
        row.direct, errors = await sustained(level, rounds, seconds, direct_one)
        row.errors.update(errors)
        await settle()
        await platform.streams.warm(level)
        before = await ttft_histogram(platform.chat)
        row.chat, errors = await sustained(level, rounds, seconds, chat_one)
        row.errors.update(errors)
        after = await ttft_histogram(platform.chat)
        row.server = {bound: after[bound] - before.get(bound, 0.0) for bound in after}
        rows.append(row)
        await settle()
    cores, logged = meter.stop(), watch.stop()

    print(
        f"(a') time to first token with that many streams open all along, {tokens}-token answers "
        f"at {PACE:g} tokens/s, a new stream as one ends ({time.perf_counter() - started:.0f} s):"
    )
    print_ttft_rows(rows, with_bedrock=False)
    print(f"  {settle.report()}")
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    return rows


async def section_stack_cpu(platform: Platform, streams: int, concurrency: int) -> float:
    """(d) CPU each process of the stack spends on one 8-token answer, from /proc: what a
    burst in (a) queues for. Returns the whole stack's milliseconds per stream."""
    message = prompt("Benchmark: answer briefly.", tokens=8, per_second=0)
    pairs = await platform.prepare(streams, "(d)")
    processes = stack_processes()
    settle = Settler(processes)
    await settle()
    await platform.streams.warm(concurrency)
    before = {name: sum(cpu_seconds(p) for p in pids) for name, pids in processes.items()}
    gate = asyncio.Semaphore(concurrency)
    results = [Stream() for _ in pairs]

    async def one(i: int) -> None:
        user, session_id = pairs[i]
        async with gate:
            await chat_stream(
                platform.streams.client(i % concurrency), user, session_id, message, results[i]
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(pairs))))
    elapsed = time.perf_counter() - started
    await settle()  # what follows an answer: storing it, settling it, its usage event
    after = {name: sum(cpu_seconds(p) for p in pids) for name, pids in processes.items()}
    per_stream = {
        name: (after[name] - before[name]) * 1000 / max(1, len(pairs)) for name in processes
    }
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    print(
        f"(d) CPU per 8-token answer, {len(pairs)} answers {concurrency} at a time "
        f"({elapsed:.1f} s, then until chat and MongoDB are quiet):"
    )
    names = [n for n in ORDER if n in per_stream] + [n for n in per_stream if n not in ORDER]
    print("  " + "  ".join(f"{n} {per_stream[n]:.2f}" for n in names if per_stream[n] >= 0.005))
    total = sum(per_stream.values())
    print(f"  the stack, in all: {total:.1f} ms of CPU per answer")
    if errors:
        print(f"  errors: {dict(errors)}")
    return total


# --- (c) supervisor lag ---------------------------------------------------------------------


class SseTap(asyncio.Protocol):
    """A bare HTTP/1.1 SSE client for (c), on its own connection: each event is timed when
    its bytes come off the socket, before any parsing. Through httpx, the parsing of a
    hundred busy streams in this process delayed some events by 100 ms and more, and a
    supervisor on another replica gets each chunk a moment after the user, often in a later
    turn of this process's loop: the lag measured was mostly this client's."""

    def __init__(self, on_event: Callable[[str, str, float], None]) -> None:
        self._on_event = on_event
        self._raw = bytearray()
        self._body = bytearray()
        self._head_done = False
        self.status = 0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        received = time.perf_counter()
        self._raw += data
        if not self._head_done:
            end = self._raw.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self._raw[:end].split(b" ", 2)[1])
            del self._raw[: end + 4]
            self._head_done = True
        while (line_end := self._raw.find(b"\r\n")) >= 0:  # chunked transfer coding
            size = int(bytes(self._raw[:line_end]).split(b";")[0], 16)
            if len(self._raw) < line_end + 2 + size + 2:
                break
            self._body += self._raw[line_end + 2 : line_end + 2 + size]
            del self._raw[: line_end + 2 + size + 2]
        while (end := self._body.find(b"\r\n\r\n")) >= 0:
            frame = bytes(self._body[:end]).decode()
            del self._body[: end + 4]
            fields = dict(line.split(": ", 1) for line in frame.split("\r\n") if ": " in line)
            if "event" in fields:
                self._on_event(fields["event"], fields.get("id", ""), received)


async def tapped_stream(
    url: str,
    method: str,
    path: str,
    token: str,
    on_event: Callable[[str, str, float], None],
    body: dict | None = None,
) -> int:
    """Send one request and feed its SSE events to ``on_event`` until the server ends the
    stream; returns the HTTP status."""
    target = httpx.URL(url)
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    transport, tap = await loop.create_connection(
        lambda: SseTap(on_event), target.host, target.port
    )
    try:
        transport.write(head + payload)
        await tap.closed
    finally:
        transport.close()
    return tap.status


async def observe(url: str, token: str, session_id: str, joined: asyncio.Event) -> dict:
    """Chunk ids of one observed session -> receive time, until its answer ends."""
    seen: dict[str, float] = {}
    ended = asyncio.Event()

    def on_event(event: str, event_id: str, received: float) -> None:
        if event == "observer":
            joined.set()
        elif event == "chunk":
            seen[event_id] = received
        elif event in ("complete", "error"):
            ended.set()

    path = f"/api/chat/sessions/{session_id}/observe"
    watching = asyncio.create_task(tapped_stream(url, "GET", path, token, on_event))
    answer_ended = asyncio.create_task(ended.wait())
    await asyncio.wait({watching, answer_ended}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    watching.cancel()  # the observer stream stays open for later answers: close it here
    answer_ended.cancel()
    if not ended.is_set():
        raise RuntimeError(f"observing {session_id} ended without the answer's end")
    return seen


async def tapped_answer(user: User, session_id: str, message: str, result: Stream) -> None:
    """A user's stream for (c), timed like the observers'."""
    result.started = time.perf_counter()

    def on_event(event: str, event_id: str, received: float) -> None:
        if event == "chunk":
            result.chunks += 1
            result.chunk_times[event_id] = received
        elif event == "complete":
            result.outcome = "complete"
        elif event == "error":
            result.outcome = "error event"

    try:
        status = await tapped_stream(
            CHAT_URL,
            "POST",
            f"/api/chat/sessions/{session_id}/stream",
            user.token,
            on_event,
            {"message": message},
        )
    except OSError as exc:
        result.outcome = type(exc).__name__
        return
    if status != 200:
        result.outcome = f"http {status}"
    elif result.outcome is None:
        result.outcome = "ended without complete"


@contextlib.asynccontextmanager
async def second_replica() -> AsyncIterator[str]:
    """The URL of a second chat replica: CHAT_B_URL, or one started here like the local
    stack's chat (its settings, another port) and stopped after."""
    if CHAT_B_URL:
        yield CHAT_B_URL
        return
    sys.path.insert(0, str(LOCAL_STACK_DIR))
    import stack  # the local stack's service definitions

    chat = next(service for service in stack.SERVICES if service.name == "chat")
    env = {**chat.environment(), "PORT": str(CHAT_B_PORT), "SERVICE_NAME": "chat-b"}
    url = f"http://127.0.0.1:{CHAT_B_PORT}"
    stack.spawn("chat-b", chat.command, env)
    try:
        await asyncio.to_thread(
            stack.wait_until,
            "chat-b",
            lambda: stack.http_ok(f"{url}/api/health/ready"),
            LOG_DIR / "chat-b.log",
        )
        yield url
    finally:
        pid = stack.running_pid("chat-b")
        if pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGTERM)
        stack.pid_file("chat-b").unlink(missing_ok=True)


async def section_observe(
    platform: Platform, sessions: int, tokens: int, observe_url: str, where: str
) -> dict:
    message = prompt("Benchmark: tell me something.", tokens=tokens, per_second=PACE)
    pairs = await platform.prepare(sessions, "(c)")
    token = await platform.login(*SUPERVISOR)
    processes = stack_processes()
    await Settler(processes)()
    joined = [asyncio.Event() for _ in pairs]
    watchers = [
        asyncio.create_task(observe(observe_url, token, session_id, j))
        for (_, session_id), j in zip(pairs, joined, strict=True)
    ]
    try:
        try:
            await asyncio.wait_for(asyncio.gather(*(j.wait() for j in joined)), 15)
        except TimeoutError:
            print(f"  {sum(not j.is_set() for j in joined)} observers never joined")
        meter, watch = CpuMeter(processes).start(), LogWatch().start()
        results = [Stream(chunk_times={}) for _ in pairs]
        await asyncio.gather(
            *(
                tapped_answer(user, session_id, message, result)
                for (user, session_id), result in zip(pairs, results, strict=True)
            )
        )
        done, pending = await asyncio.wait(watchers, timeout=5)
        cores, logged = meter.stop(), watch.stop()
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)

    lags, missing, user_chunks = [], 0, 0
    for result, watcher in zip(results, watchers, strict=True):
        seen = watcher.result() if watcher in done and not watcher.exception() else {}
        user_chunks += len(result.chunk_times)
        for event_id, received in result.chunk_times.items():
            if event_id in seen:
                lags.append(seen[event_id] - received)
            else:
                missing += 1
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    failed = sum(1 for w in done if w.exception() is not None)
    figures = {
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "min": min(lags, default=float("nan")),
        "max": max(lags, default=float("nan")),
    }
    print(
        f"(c) supervisor1 observing {len(pairs)} sessions {where} while their users stream "
        f"{tokens} tokens at {PACE:g} tokens/s:"
    )
    print(
        f"  supervisor lag behind the user, per chunk   p50 {figures['p50'] * 1000:6.2f} ms   "
        f"p99 {figures['p99'] * 1000:6.2f} ms   (target p99 <= 5 ms)"
    )
    print(f"  {'':44}min {figures['min'] * 1000:6.2f} ms   max {figures['max'] * 1000:6.2f} ms")
    print(
        f"  chunks matched {len(lags):,} of {user_chunks:,}; missed by the supervisor {missing:,}"
        " (a negative lag: the supervisor had the chunk first)"
    )
    if errors or pending or failed:
        print(
            f"  problems: user streams {dict(errors)}, observers unfinished {len(pending)}, "
            f"observers failed {failed}"
        )
    print_cpu(cores)
    print_log(logged)
    await print_backlog()
    figures["ok"] = bool(lags) and not missing and not errors
    return figures


# --- (b) concurrent streams -----------------------------------------------------------------


@dataclass
class Level:
    streams: int
    ramp: float
    tokens: int  # per stream
    errors: collections.Counter = field(default_factory=collections.Counter)
    peak: int = 0  # streams between first chunk and end at one time (client side)
    server_active: float | None = None  # chat_active_streams at mid-level
    ttft: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    delivered: int = 0
    elapsed: float = 0.0
    rss_before: int = 0
    rss_peak: int = 0
    cores: dict[str, float] = field(default_factory=dict)
    logged: collections.Counter = field(default_factory=collections.Counter)

    @property
    def slow(self) -> int:
        return sum(1 for r in self.rates if r < 0.9 * PACE)

    @property
    def held(self) -> bool:
        return (
            not self.errors
            and self.peak >= 0.95 * self.streams
            and self.slow <= 0.01 * self.streams
        )

    @property
    def kib_per_stream(self) -> float:
        return (self.rss_peak - self.rss_before) / max(1, self.peak)

    def why_not(self) -> str:
        reasons = []
        if self.errors:
            reasons.append(f"errors {dict(self.errors.most_common(4))}")
        if self.peak < 0.95 * self.streams:
            reasons.append(f"only {self.peak:,} streaming at once")
        if self.slow > 0.01 * self.streams:
            reasons.append(f"{self.slow:,} streams under {0.9 * PACE:g} tokens/s")
        return "; ".join(reasons)


async def server_active_streams(client: httpx.AsyncClient) -> float | None:
    try:
        text = (await client.get("/metrics", timeout=5)).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("chat_active_streams "):
            return float(line.split()[1])
    return None


async def run_level(
    platform: Platform,
    count: int,
    start_rate: float,
    hold: float,
    settle: Settler,
    chat_pid: int | None,
) -> Level:
    ramp = count / start_rate
    # Every stream lasts the whole ramp plus the hold: the last one starts as the first is
    # still streaming, and all of them run together for `hold` seconds.
    level = Level(count, ramp, round(PACE * (ramp + hold)))
    pairs = await platform.prepare(count, f"{count:,} streams")
    if len(pairs) < count:
        level.errors["no session"] = count - len(pairs)
        return level
    message = prompt("Benchmark: tell me a long story.", tokens=level.tokens, per_second=PACE)
    await settle()
    await platform.streams.warm(count)
    level.rss_before = level.rss_peak = rss_kib(chat_pid) if chat_pid else 0
    results = [Stream() for _ in pairs]
    meter, watch = CpuMeter(settle.processes).start(), LogWatch().start()
    begin = time.perf_counter()

    async def one(i: int) -> None:
        await asyncio.sleep(begin + ramp * i / count - time.perf_counter())
        user, session_id = pairs[i]
        await chat_stream(platform.streams.client(i), user, session_id, message, results[i])

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    deadline = begin + 2 * ramp + hold + 10
    probed = False
    while not all(t.done() for t in tasks) and time.perf_counter() < deadline:
        await asyncio.sleep(0.25)
        level.peak = max(level.peak, sum(1 for r in results if r.streaming))
        if chat_pid:
            level.rss_peak = max(level.rss_peak, rss_kib(chat_pid))
        if not probed and time.perf_counter() > begin + ramp + hold / 2:
            probed = True
            level.server_active = await server_active_streams(platform.chat)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    level.elapsed = time.perf_counter() - begin
    level.cores, level.logged = meter.stop(), watch.stop()
    for result in results:
        if result.outcome != "complete":
            level.errors[result.outcome or "unfinished at the deadline"] += 1
        elif result.chunks != level.tokens:
            level.errors[f"{result.chunks} of {level.tokens} chunks"] += 1
        if result.ttft is not None:
            level.ttft.append(result.ttft)
        if (rate := result.rate()) is not None:
            level.rates.append(rate)
        level.delivered += result.chunks
    return level


def print_level(level: Level) -> None:
    server = "?" if level.server_active is None else f"{level.server_active:,.0f}"
    print(
        f"  {level.streams:>5,} streams started over {level.ramp:.1f} s, {level.tokens} tokens "
        f"each: errors {sum(level.errors.values()):,}, at once {level.peak:,} "
        f"(chat_active_streams {server})"
    )
    print(
        f"  {'':8}time to first token p50 {percentile(level.ttft, 50) * 1000:,.0f} ms, "
        f"p99 {percentile(level.ttft, 99) * 1000:,.0f} ms; tokens/s per stream p50 "
        f"{percentile(level.rates, 50):.1f}, slowest 1% {percentile(level.rates, 1):.1f}, "
        f"{level.slow:,} under {0.9 * PACE:g}; all streams "
        f"{level.delivered / max(level.elapsed, 1e-9):,.0f} tokens/s"
    )
    print(
        f"  {'':8}chat RSS {level.rss_before / 1024:.0f} MiB before, "
        f"{level.rss_peak / 1024:.0f} MiB at the peak: {level.kib_per_stream:.1f} KiB per stream"
    )
    print_cpu(level.cores)
    print_log(level.logged)


async def section_capacity(
    platform: Platform, args: argparse.Namespace
) -> tuple[int, Level | None]:
    levels = [int(n) for n in args.levels.split(",")]
    chat_pid = chat_process()
    print(
        f"(b) concurrent streams on one chat process (pid {chat_pid}) at {PACE:g} tokens/s "
        f"each, started at {args.start_rate:g}/s, all together for {args.hold_seconds:g} s:"
    )
    if chat_pid is None:
        print(f"  no chat pid in {RUN_DIR}/chat.pid: memory is not measured")
    settle = Settler(stack_processes())
    ends = time.perf_counter() + args.budget
    best, best_level, largest = 0, None, None
    todo = list(levels)
    while todo:
        count = todo.pop(0)
        ramp = count / args.start_rate
        # The level, its sessions and the settling before it, when it holds (one that does not
        # may take 10 s more).
        needed = 2 * ramp + args.hold_seconds + count / 60 + SETTLE_SECONDS
        if time.perf_counter() + needed > ends:
            print(
                f"  stopped before {count:,} streams: the time budget "
                f"(--budget {args.budget:g} s) is spent"
            )
            break
        level = await run_level(
            platform, count, args.start_rate, args.hold_seconds, settle, chat_pid
        )
        print_level(level)
        if largest is None or level.peak > largest.peak:
            largest = level
        if not level.held:
            print(f"  {count:,} streams not held: {level.why_not()}")
            if best == 0 and count // 2 >= args.min_level:
                todo = [count // 2]  # nothing held yet: look below the first level
                continue
            break
        best, best_level = count, level
    print(f"  {settle.report()}")
    print(f"  highest level held: {best:,} streams (target >= 2,000)")
    if largest is not None and largest.peak:
        # CPython keeps the memory it frees for reuse: RSS grows only past the process's
        # earlier peak, so the level with the most streams at once is the one to divide by,
        # and the figure is a lower bound when earlier load (this run's or not) grew it.
        print(
            f"  chat memory per stream: {largest.kib_per_stream:.1f} KiB (RSS "
            f"{largest.rss_before / 1024:.0f} MiB before the level, "
            f"{largest.rss_peak / 1024:.0f} MiB with {largest.peak:,} streams at once; "
            f"{platform.chat_rss_start / 1024:.0f} MiB when this run began)"
        )
    await print_backlog()
    return best, best_level


def boto3_cost(streams: int, tokens: int) -> tuple[int, float, float]:
    """Stream ``streams`` answers at once through boto3's converse_stream from worker threads,
    as chat does, but nothing else: (events, CPU seconds of this process, wall seconds)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=SIMULATOR_URL,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=streams, read_timeout=60),
    )
    message = prompt("Benchmark: boto3 alone.", tokens=tokens, per_second=PACE)

    def one(_: int) -> int:
        reply = client.converse_stream(
            modelId=MODEL,
            messages=[{"role": "user", "content": [{"text": message}]}],
            inferenceConfig={"maxTokens": MAX_TOKENS},
        )
        return sum(1 for _ in reply["stream"])

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(streams) as threads:
        events = sum(threads.map(one, range(streams)))
    return events, time.process_time() - cpu, time.perf_counter() - wall


async def section_boto3(streams: int, tokens: int) -> float:
    """What boto3 alone costs per streamed event: a floor under chat's cost per token."""
    events, cpu, wall = await asyncio.to_thread(boto3_cost, streams, tokens)
    per_event = cpu / max(events, 1)
    needed = per_event * 2000 * PACE
    print(
        f"(b') boto3's own cost: {streams} converse_stream calls at once from threads, "
        f"{tokens} tokens each at {PACE:g} tokens/s, nothing else ({wall:.0f} s):"
    )
    print(
        f"  {events:,} events, {cpu:.2f} s CPU: {per_event * 1e6:.0f} us per event, so 2,000 "
        f"streams at {PACE:g} tokens/s need {needed:.1f} cores for boto3 alone "
        f"(this machine has {os.cpu_count()})"
    )
    return per_event


# --- the run ------------------------------------------------------------------------------


async def wait_for_quiet(limit: float) -> None:
    """An earlier run's answers may still be queued for the usage relay, keeping MongoDB busy."""
    started = time.perf_counter()
    first = backlog = await usage_backlog()
    while backlog and time.perf_counter() - started < limit:
        await asyncio.sleep(2)
        backlog = await usage_backlog()
    if first is None:
        print(f"usage relay backlog: unknown (no MongoDB at {MONGO_URL})")
    elif first:
        print(
            f"usage relay backlog at the start: {first:,} records; waited "
            f"{time.perf_counter() - started:.0f} s, {backlog:,} left"
            + ("; the figures below share the stack with it" if backlog else "")
        )


async def run_sections(platform: Platform, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    platform.admin_token = await platform.login(*ADMIN)
    bursts = [int(b) for b in args.ttft_bursts.split(",")]
    plan = list(zip([50, 200], bursts, strict=False))
    print(
        f"streams benchmark: chat {CHAT_URL}, model simulator {SIMULATOR_URL}, model {MODEL}; "
        f"{os.cpu_count()} CPUs; event loop {'uvloop' if uvloop else 'asyncio'}; "
        f"run id {platform.run}"
    )
    await wait_for_quiet(args.quiet_wait)
    # The users (a) and (c) need, up front; (b) registers its own, level by level.
    expected = 10 + sum(c * b for c, b in plan) + args.observed
    await platform.register(math.ceil(expected / platform.per_user))
    setup = platform.setup
    print(
        f"setup: {setup.registered} users registered concurrently in {setup.register_s:.1f} s "
        f"({setup.registered / max(1e-9, setup.register_s):.0f} /s), {CREDITS_PER_USER} credits "
        f"each allocated in {setup.allocate_s:.1f} s; at most {platform.per_user} streams per user"
    )

    rows = await section_ttft(platform, plan)
    print()
    levels = [int(level) for level in args.sustained.split(",") if level]
    steady = await section_ttft_sustained(
        platform, levels, args.sustained_rounds, args.sustained_tokens
    )
    print()
    stack_cpu = (
        await section_stack_cpu(platform, args.cpu_streams, 10) if args.cpu_streams else None
    )
    print()
    observed = {
        "on the serving replica": await section_observe(
            platform, args.observed, args.observe_tokens, CHAT_URL, "on chat itself"
        )
    }
    print()
    async with second_replica() as url:
        observed["on another replica"] = await section_observe(
            platform,
            args.observed,
            args.observe_tokens,
            url,
            f"on a second replica ({url}, through Redis)",
        )
    print()
    best, _ = await section_capacity(platform, args)
    print()
    boto3_per_event = await section_boto3(args.boto3_streams, 200)
    print()

    print(
        f"setup in all: {setup.registered} users ({setup.register_s:.1f} s registering, "
        f"{setup.allocate_s:.1f} s allocating), {setup.sessions:,} sessions "
        f"({setup.sessions_s:.1f} s)"
        + (f"; failures {dict(setup.failures)}" if setup.failures else "")
    )
    print("summary:")
    for row in rows:
        p50, p99 = row.overhead()
        print(
            f"  (a) overhead at {row.concurrency:>3} streams    p50 {p50 * 1000:9.1f} ms (<= 5 ms) "
            f"{met(p50 <= 0.005):6}   p99 {p99 * 1000:9.1f} ms (<= 20 ms) {met(p99 <= 0.020)}"
        )
    for row in steady:
        p50, p99 = row.overhead()
        print(
            f"  (a') overhead, {row.concurrency:>3} open    p50 {p50 * 1000:9.1f} ms (<= 5 ms) "
            f"{met(p50 <= 0.005):6}   p99 {p99 * 1000:9.1f} ms (<= 20 ms) {met(p99 <= 0.020)}"
        )
    if stack_cpu is not None:
        print(f"  (d) the stack's CPU per 8-token answer  {stack_cpu:9.1f} ms")
    print(f"  (b) streams held at {PACE:g} tokens/s  {best:>9,}    (>= 2,000) {met(best >= 2000)}")
    print(
        f"      boto3 alone: {boto3_per_event * 1e6:.0f} us CPU per event = "
        f"{boto3_per_event * 2000 * PACE:.1f} cores at 2,000 streams"
    )
    for where, figures in observed.items():
        print(
            f"  (c) supervisor lag p99 {where:23} {figures['p99'] * 1000:9.2f} ms (<= 5 ms) "
            f"{met(figures['ok'] and figures['p99'] <= 0.005)}"
        )
    print(f"total {time.perf_counter() - started:.0f} s")


async def bench(args: argparse.Namespace) -> None:
    platform = Platform(args.streams_per_user)
    try:
        problem = await platform.check()
        if problem:
            print(f"streams benchmark: skipped, {problem}")
            return
        await run_sections(platform, args)
    finally:
        await platform.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ttft-bursts", default="4,2", help="(a): bursts of 50, of 200 concurrent streams"
    )
    parser.add_argument("--sustained", default="50,200", help="(a'): levels of streams kept open")
    parser.add_argument(
        "--sustained-rounds", type=int, default=3, help="(a'): streams per worker, first uncounted"
    )
    parser.add_argument(
        "--sustained-tokens", type=int, default=40, help="(a'): answer length at 20 tokens/s"
    )
    parser.add_argument(
        "--cpu-streams", type=int, default=300, help="(d): answers measured; 0 skips it"
    )
    parser.add_argument("--observed", type=int, default=50, help="(c): sessions observed")
    parser.add_argument("--observe-tokens", type=int, default=100, help="(c): answer length")
    parser.add_argument("--levels", default="250,500,1000,2000", help="(b): concurrency ramp")
    parser.add_argument("--start-rate", type=float, default=100, help="(b): streams started/s")
    parser.add_argument(
        "--hold-seconds", type=float, default=10, help="(b): how long all of a level stream"
    )
    parser.add_argument("--budget", type=float, default=80, help="(b): seconds it may take")
    parser.add_argument(
        "--min-level", type=int, default=25, help="(b): when no level holds, halve down to this"
    )
    parser.add_argument("--streams-per-user", type=int, default=4)
    parser.add_argument(
        "--boto3-streams", type=int, default=100, help="(b'): concurrent boto3 calls measured"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="seconds to wait at the start for a usage-relay backlog (an earlier run's) to drain",
    )
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
