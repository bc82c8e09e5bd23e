"""What the fault tests (test_faults.py) share: control of the local stack's processes and of
this machine's infrastructure, answers streamed on threads of their own, and the checks every
fault ends with (billing exact, no hold open, no dead letter, ledger clean, no 500).

Besides HTTP and AMQP these tests read two stores, as an auditor would: the chat database,
for the input and output token counts stored with each answer (its API shows only their sum,
`tokensUsed`, and a price needs both), and the ledger, through `ledger-check`.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aio_pika
import httpx
import orjson
import pytest
from aio_pika.exceptions import ChannelClosed
from helpers import (
    BUS_EXCHANGE,
    CHAT_URL,
    RABBITMQ_URL,
    DirectRoutes,
    bearer,
    onboarded_user,
    sse_events,
    tokens_for,
)
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "deploy" / "local" / "stack.py"
ENSURE_INFRA = ROOT / "deploy" / "local" / "ensure-infra.sh"
MONGO_URL = os.environ.get("E2E_MONGO_URL", "mongodb://127.0.0.1:27017/?retryWrites=false")
MONGO_DATABASE = os.environ.get("E2E_MONGO_DATABASE", "chat")
LEDGER_DB = os.environ.get(
    "E2E_ACCOUNTING_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/accounting"
)
REDIS_PORT = 6379
USAGE_DLQ = "accounting.usage-recorded.dlq"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PASSWORD = "E2e-Passw0rd!"
# The longest an answer may go quiet between its last chunk and its last event, or a
# connection between two events, before it counts as hanging.
HANG_SECONDS = 10.0

infra_control = pytest.mark.skipif(
    os.environ.get("E2E_INFRA_CONTROL") != "local",
    reason="needs control of the stack's PostgreSQL, Redis, SecantusDB and processes "
    "(E2E_INFRA_CONTROL=local, set by `stack.py e2e` when they are this machine's)",
)
broker_control = pytest.mark.skipif(
    os.environ.get("E2E_BROKER_CONTROL") != "rabbitmqctl",
    reason="needs control of the stack's RabbitMQ (E2E_BROKER_CONTROL=rabbitmqctl)",
)


# --- processes and infrastructure ---------------------------------------------------------


def run(command: list[str], timeout: float = 150) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"


def stack(*args: str) -> None:
    """deploy/local/stack.py with this interpreter (the workspace's)."""
    run([sys.executable, str(STACK), *args])


def ensure_infra() -> None:
    """Start whichever of PostgreSQL, Redis and RabbitMQ does not answer, as `make infra`."""
    run(["bash", str(ENSURE_INFRA)])


def restore() -> None:
    """Put back whatever a fault broke and wait for the whole stack to be ready again."""
    ensure_infra()
    stack("up")


def postgres(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action])


def redis_shutdown() -> None:
    run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"])
    wait_for(lambda: not port_answers(REDIS_PORT), 10, "redis to stop")


def rabbitmqctl(*args: str) -> None:
    run(["rabbitmqctl", *args], timeout=120)


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(check: Callable[[], object], timeout: float, what: str, every: float = 0.1):
    """Poll ``check`` until it returns something true; that value (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}", pytrace=False)
        time.sleep(every)


def seconds_until(check: Callable[[], object], timeout: float, every: float = 0.1):
    """How long until ``check`` returns something true (a request that fails counts as
    false); None when it did not in ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > timeout:
            return None
        time.sleep(every)


# --- responses, recorded ------------------------------------------------------------------


@dataclass
class Recorder:
    """Every response the test received (method, path, status): none may be a 500."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, response: httpx.Response) -> None:
        with self._lock:
            self.seen.append((response.request.method, response.url.path, response.status_code))

    def server_errors(self) -> list[tuple[str, str, int]]:
        """5xx answers other than 503 (the only way an outage may answer)."""
        return [r for r in self.seen if r[2] >= 500 and r[2] != 503]

    def client(self) -> DirectRoutes:
        client = DirectRoutes()
        client.event_hooks = {"response": [self]}
        return client


@dataclass
class Probe:
    """One request made during an outage: its answer (or how it failed) and how long it took."""

    what: str
    response: httpx.Response | None
    failure: str | None
    seconds: float

    def problem(self, limit: float) -> str | None:
        """What is wrong with it as an outage's answer, None when nothing is."""
        if self.response is None:
            return f"{self.what}: {self.failure} after {self.seconds:.1f} s"
        wrong = outage_answer(self.response)
        if wrong is None and self.seconds > limit:
            wrong = f"503 after {self.seconds:.1f} s (more than {limit:g} s)"
        return f"{self.what}: {wrong}" if wrong else None


def probe(what: str, call: Callable[[], httpx.Response]) -> Probe:
    started = time.monotonic()
    try:
        response = call()
    except httpx.HTTPError as exc:
        return Probe(what, None, f"{type(exc).__name__}: {exc}", time.monotonic() - started)
    return Probe(what, response, None, time.monotonic() - started)


def outage_answer(response: httpx.Response) -> str | None:
    """What is wrong with ``response`` as an outage's answer (503, a code, Retry-After)."""
    if response.status_code != 503:
        return f"{response.status_code} {response.text[:200]}"
    try:
        code = response.json().get("code")
    except ValueError:
        return f"503 without a JSON body: {response.text[:200]}"
    if code != "database_unavailable":
        return f"503 {code}"
    if not response.headers.get("Retry-After"):
        return "503 database_unavailable without Retry-After"
    return None


# --- users, sessions, money ---------------------------------------------------------------


@dataclass
class Account:
    username: str
    user_id: str
    headers: dict[str, str]


def funded_user(client: httpx.Client) -> Account:
    """A new user, once the plan's grant (over the bus) has reached their balance."""
    body = onboarded_user(client, PASSWORD)
    return Account(body["user"]["username"], body["user"]["id"], bearer(body["accessToken"]))


def supervisor(client: httpx.Client) -> dict[str, str]:
    return bearer(tokens_for(client, "supervisor1")["accessToken"])


def new_sessions(client: httpx.Client, account: Account, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = client.post(
            "/api/chat/sessions", json={"modelId": HAIKU}, headers=account.headers
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["sessionId"])
    return ids


def balance(client: httpx.Client, account: Account) -> tuple[Decimal, Decimal]:
    """(total, reserved) credits."""
    response = client.get("/api/credits/balance", headers=account.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return Decimal(str(body["totalCredits"])), Decimal(str(body["reservedCredits"]))


def price(
    client: httpx.Client, account: Account, model: str, input_t: int, output_t: int
) -> Decimal:
    """What accounting's own calculator says an answer of these tokens costs."""
    response = client.post(
        "/api/credits/calculate",
        json={"modelId": model, "inputTokens": input_t, "outputTokens": output_t},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["credits"]))


def usage_totals(client: httpx.Client, account: Account) -> dict:
    response = client.get("/api/usage/stats", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["totals"]


def open_holds(client: httpx.Client, account: Account) -> list[dict]:
    response = client.get("/api/streaming-sessions/active", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["reservations"]


def settled(
    client: httpx.Client, account: Account, before: Decimal, expected: Decimal, timeout: float
) -> tuple[float | None, str]:
    """Wait until no credits are held and the balance is ``expected`` below ``before``:
    (how long that took or None, the last balance seen)."""
    started = time.monotonic()
    while True:
        total, held = balance(client, account)
        seen = f"the balance dropped by {before - total} with {held} held"
        if held == 0 and before - total == expected:
            return time.monotonic() - started, seen
        if time.monotonic() - started > timeout:
            return None, seen
        time.sleep(0.2)


def stored_answers(stream_ids: list[str]) -> dict[str, list[dict]]:
    """The assistant messages stored for each answer (by streamingSessionId)."""
    found: dict[str, list[dict]] = {stream_id: [] for stream_id in stream_ids}
    with MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000) as mongo:
        for doc in mongo[MONGO_DATABASE].messages.find(
            {"role": "assistant", "streamingSessionId": {"$in": stream_ids}}
        ):
            found[doc["streamingSessionId"]].append(doc)
    return found


def cost_of_stored(client: httpx.Client, account: Account, docs: list[dict]) -> Decimal:
    return sum(
        (
            price(client, account, d["modelId"], d["tokens"]["input"], d["tokens"]["output"])
            for d in docs
        ),
        Decimal(0),
    )


def dead_letters(stream_ids: list[str]) -> list[dict]:
    """The usage events of these answers in accounting's dead-letter queue, left there."""
    return asyncio.run(_dead_letters(set(stream_ids)))


async def _dead_letters(stream_ids: set[str]) -> list[dict]:
    connection = await aio_pika.connect(RABBITMQ_URL)
    bodies = []
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(USAGE_DLQ, passive=True)
        except ChannelClosed:
            return []  # never declared: nothing was ever dead-lettered
        # Taken without ack: closing the channel puts every one of them back.
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            bodies.append(orjson.loads(message.body))
        await channel.close()
    return [b for b in bodies if b.get("streamingSessionId") in stream_ids]


def bind_probe(routing_key: str) -> str:
    """A queue of this test's own that gets a copy of every ``routing_key`` event."""
    name = f"e2e.fault-probe.{uuid.uuid4().hex[:8]}"
    asyncio.run(_declare_probe(name, routing_key))
    return name


async def _declare_probe(name: str, routing_key: str) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            BUS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        # Durable so it outlives a broker restart; expires on its own if the test dies.
        queue = await channel.declare_queue(name, durable=True, arguments={"x-expires": 600_000})
        await queue.bind(exchange, routing_key)


def probe_events(name: str, stream_ids: list[str], deadline: float = 30) -> list[dict]:
    """The events of these answers the probe queue got: waits until each has come (or
    ``deadline``), then a second more for copies, and deletes the queue."""
    return asyncio.run(_probe_events(name, set(stream_ids), deadline))


async def _probe_events(name: str, stream_ids: set[str], deadline: float) -> list[dict]:
    connection = await aio_pika.connect(RABBITMQ_URL)
    found: list[dict] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True, arguments={"x-expires": 600_000})
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while loop.time() < end:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.1)
                continue
            await message.ack()
            event = orjson.loads(message.body)
            if event.get("streamingSessionId") in stream_ids:
                found.append(event)
                if {e["streamingSessionId"] for e in found} == stream_ids:
                    end = min(end, loop.time() + 1.0)
        await queue.delete(if_unused=False, if_empty=False)
    return found


def ledger_check() -> str:
    """`make ledger-check`: every balance equals the sum of its ledger entries ("" when clean,
    else what it printed)."""
    command = shutil.which("ledger-check")
    if command is None:
        return "ledger-check is not installed (uv sync --all-packages)"
    result = subprocess.run([command, LEDGER_DB], capture_output=True, text=True, timeout=60)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def active_streams(client: httpx.Client, headers: dict[str, str]) -> tuple[int, set[str]]:
    """(status, streamingSessionIds listed) of GET /api/chat/streams/active."""
    response = client.get("/api/chat/streams/active", headers=headers, timeout=5)
    if response.status_code != 200:
        return response.status_code, set()
    return 200, {s["streamingSessionId"] for s in response.json()["streams"]}


# --- streams --------------------------------------------------------------------------------


def prompt(tokens: int, per_second: float) -> str:
    """A question the model simulator answers with ``tokens`` words at ``per_second``."""
    return (
        f"Fault test {uuid.uuid4().hex[:8]} [[sim:answer-tokens={tokens}]] "
        f"[[sim:tokens-per-second={per_second:g}]] [[sim:first-token-delay-ms=0]]"
    )


@dataclass
class Received:
    event: str
    data: dict
    id: str | None
    at: float  # time.monotonic()

    @property
    def seq(self) -> int:
        return int((self.id or "0").rsplit(":", 1)[-1])


class Sse:
    """One Server-Sent Events response, read on a thread of its own until its last event
    (`complete` or `error`), an error of the connection, or ``close``."""

    def __init__(
        self,
        recorder: Recorder,
        path: str,
        headers: dict[str, str],
        *,
        method: str = "POST",
        json: dict | None = None,
        last_event_id: str | None = None,
    ) -> None:
        self.path = path
        self.status: int | None = None
        self.body = ""  # when not 200
        self.events: list[Received] = []
        self.failure: str | None = None  # how the connection broke, if it did
        self.hung = False  # closed by the test: nothing came for too long
        self.started = time.monotonic()
        self.ended: float | None = None
        self._headers = {**headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        self._method, self._json = method, json
        self._client = httpx.Client(
            base_url=CHAT_URL,
            timeout=httpx.Timeout(10, read=HANG_SECONDS + 10),
            event_hooks={"response": [recorder]},
        )
        self._response: httpx.Response | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True, name=f"sse {path}")
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream(
                self._method, self.path, headers=self._headers, json=self._json
            ) as response:
                self.status = response.status_code
                self._response = response
                if response.status_code != 200:
                    self.body = response.read().decode(errors="replace")
                    return
                for event, data, event_id in sse_events(response):
                    with self._changed:
                        self.events.append(Received(event, data, event_id, time.monotonic()))
                        self._changed.notify_all()
                    if event in ("complete", "error"):
                        return
                self.failure = "ended without complete or error"
        except Exception as exc:  # the connection broke (or close() broke it)
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            self._client.close()
            with self._changed:
                self.ended = time.monotonic()
                self._changed.notify_all()

    def wait(self, predicate: Callable[["Sse"], bool], timeout: float) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: predicate(self) or self.ended is not None, timeout)
            return predicate(self)

    def wait_chunks(self, count: int, timeout: float = 15) -> None:
        if not self.wait(lambda s: len(s.chunks) >= count, timeout):
            pytest.fail(
                f"{self.path}: {len(self.chunks)} chunks after {timeout:g} s, wanted {count} "
                f"(status {self.status} {self.body[:200]} {self.failure or ''})",
                pytrace=False,
            )

    def finish(self, timeout: float) -> "Sse":
        """Wait for the end; past ``timeout``, cut the connection and mark it as hanging."""
        with self._changed:
            self._changed.wait_for(lambda: self.ended is not None, max(0.0, timeout))
        if self.ended is None:
            self.hung = True
            self._cut()
        return self

    def _cut(self) -> None:
        # Closing the client would not wake the thread blocked reading the socket; shutting
        # the socket down does.
        response = self._response
        network = response.extensions.get("network_stream") if response is not None else None
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)

    @property
    def chunks(self) -> list[Received]:
        return [e for e in self.events if e.event == "chunk"]

    @property
    def text(self) -> str:
        return "".join(e.data["content"] for e in self.chunks)

    @property
    def stream_id(self) -> str:
        return next(e.data["streamingSessionId"] for e in self.events if e.event == "model")

    @property
    def model(self) -> str:
        return next(e.data["modelId"] for e in self.events if e.event == "model")

    @property
    def last_id(self) -> str:
        return next(e.id for e in reversed(self.events) if e.id)

    @property
    def last(self) -> Received | None:
        """The last event, when it is `complete` or `error`."""
        if self.events and self.events[-1].event in ("complete", "error"):
            return self.events[-1]
        return None

    def ending(self) -> str:
        """How it ended, for messages: `complete`, `error <code>`, or what went wrong."""
        if self.status is not None and self.status != 200:
            return f"http {self.status} {self.body[:200]}"
        if self.last is not None:
            code = self.last.data.get("code", "")
            return self.last.event + (f" {code}" if code else "")
        return "hung" if self.hung else f"no last event ({self.failure})"

    def quiet_before_end(self) -> float:
        """Seconds from the last chunk (or the start) to the last event."""
        chunks = self.chunks
        end = self.last.at if self.last else (self.ended or time.monotonic())
        return end - (chunks[-1].at if chunks else self.started)

    def gap(self, after: int = 0) -> str | None:
        """The first gap in the events' seqs after ``after`` (None when there is none): each
        event must be the one after the one before, unless an `error resume_gap` says that
        what follows is not all of it."""
        expected = after + 1
        for received in self.events:
            if received.event == "error" and received.data.get("code") == "resume_gap":
                return None
            if received.seq != expected:
                return f"seq {received.seq} came where {expected} was due"
            expected += 1
        return None


def finish_all(streams: list[Sse], timeout: float) -> None:
    """Wait for every one of ``streams`` to end, all within the same ``timeout``."""
    deadline = time.monotonic() + timeout
    for s in streams:
        s.finish(deadline - time.monotonic())


def stream(recorder: Recorder, account: Account, session_id: str, question: str) -> Sse:
    return Sse(
        recorder,
        f"/api/chat/sessions/{session_id}/stream",
        account.headers,
        json={"message": question},
    )


def resume(recorder: Recorder, account: Account, session_id: str, last_event_id: str) -> Sse:
    return Sse(
        recorder,
        f"/api/chat/sessions/{session_id}/stream",
        account.headers,
        last_event_id=last_event_id,
    )


def observe(recorder: Recorder, headers: dict[str, str], session_id: str) -> Sse:
    return Sse(recorder, f"/api/chat/sessions/{session_id}/observe", headers, method="GET")
