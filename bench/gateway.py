"""Gateway benchmark: the latency the gateway adds to a small JSON request and to the first byte
of a streamed chat answer, against the same service called directly in the same run.

    uv run --frozen python -m bench.gateway [--seconds 5] [--clients 1,200]
        [--json-path /api/auth/me] [--stream-pairs 40] [--stream-rounds 2] [--gateway-url URL]

Needs the local stack (`make dev`): auth, accounting, chat and the model simulator on 127.0.0.1.
The gateway measured is one of its own: the local stack's gateway settings with
EDGE_REQUESTS_PER_MINUTE=0, started on port 8090 (log in .local/logs/gateway-bench.log) and
stopped after. The edge limit has to be off: it counts 600 requests a minute per user, which
one level of (1) passes in seconds, and the answers past it would be 429s, not proxied
requests. --gateway-url (or GATEWAY_URL) measures a running gateway instead, which must have
EDGE_REQUESTS_PER_MINUTE=0 itself (its process is found by the port it listens on).

Each client holds one keep-alive HTTP/1.1 connection to the service and one to the gateway
(raw sockets: no client-side pool bookkeeping in the figures) and alternates between them,
half the clients starting with the direct call, so both sides see the same load at the same
moments. The difference of the percentiles (gateway - direct) is what the gateway adds
(target at 200 clients: p50 <= 1 ms, p99 <= 5 ms).

  (1) a small JSON request, GET --json-path (default /api/auth/me) as user1, from 1 and 200
      clients, each back to back for --seconds: from sending the request to the last byte of
      the answer.
  (2) the first SSE byte of a streamed chat answer, POST /api/chat/sessions/{id}/stream (an
      8-token answer, no first-token delay): from sending the request to the first byte of the
      event stream. One client does --stream-pairs pairs one after the other; 200 clients do
      --stream-rounds rounds of one pair each, all started at once. Chat lets a user create 8
      sessions and make 30 writes a minute, so the streams are spread over throwaway users
      (bench<run>u<n>, funded as admin, STREAMS_PER_USER each, every stream in a new
      session); user1's own credits are left alone.
Each level prints the CPU the gateway process used (and the services, this bench and the rest
of the machine), in cores: 1.00 = one core busy the whole time. The bench exits 1 when it does
not end cleanly (a task or warning left behind: ``bench.harness.run``).
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.harness import (
    ACCOUNTING_URL,
    ADMIN,
    AUTH_URL,
    CHAT_URL,
    EVENT_LOOP,
    CpuMeter,
    NotReady,
    Platform,
    Settler,
    User,
    percentile,
    print_cpu,
    prompt,
    run,
    service_copy,
    stack_processes,
)

OWN_GATEWAY_PORT = 8090
READY_SECONDS = 30
USER = ("user1", "User1@123")
IDLE_SECONDS = 2.0  # a keep-alive connection idle longer is reopened before its next request
STREAMS_PER_USER = 8  # chat: 8 session creations a minute per user (and 30 writes)
TARGET_P50, TARGET_P99 = 0.001, 0.005
SERVICE_OF = {"/api/auth": AUTH_URL, "/api/credits": ACCOUNTING_URL, "/api/chat": CHAT_URL}


# --- a raw HTTP/1.1 keep-alive connection ---------------------------------------------------


@dataclass
class Reply:
    status: int
    first: float  # perf_counter when the first byte of the body arrived (the head, if none)
    done: float  # when the last byte arrived
    body: bytes


class Connection:
    """One keep-alive connection; requests one at a time. Reopened when the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._used = time.perf_counter()

    async def ready(self) -> None:
        """Open when closed, or idle for long enough that the server may be closing it
        (uvicorn keeps an idle connection 5 s): called before timing a request."""
        if self._writer is not None and time.perf_counter() - self._used > IDLE_SECONDS:
            self.close()
        if self._writer is None:
            await self.open()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None = None
    ) -> Reply:
        if self._writer is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        try:
            return await self._read(method)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    async def _read(self, method: str) -> Reply:
        reader = self._reader
        assert reader is not None
        head = await reader.readuntil(b"\r\n\r\n")
        first = time.perf_counter()
        status_line, *header_lines = head[:-4].split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        body = bytearray()
        if method == "HEAD" or status in (204, 304):
            pass
        elif b"chunked" in headers.get(b"transfer-encoding", b""):
            started = False
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                        pass
                    break
                if not started:
                    first, started = time.perf_counter(), True
                body += (await reader.readexactly(size + 2))[:-2]
        elif b"content-length" in headers:
            body += await reader.readexactly(int(headers[b"content-length"]))
        else:
            body += await reader.read()  # delimited by the end of the connection
            self.close()
        done = self._used = time.perf_counter()
        if headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return Reply(status, first, done, bytes(body))


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Sides:
    """Samples (seconds) of the direct and the via-gateway calls of one level."""

    clients: int
    direct: list[float] = field(default_factory=list)
    gateway: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)

    def add(self, side: str, seconds: float) -> None:
        (self.direct if side == "direct" else self.gateway).append(seconds)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def added(self) -> tuple[float, float]:
        return (
            percentile(self.gateway, 50) - percentile(self.direct, 50),
            percentile(self.gateway, 99) - percentile(self.direct, 99),
        )


def print_level(sides: Sides) -> None:
    for label, values in [("direct", sides.direct), ("via gateway", sides.gateway)]:
        rate = f"{len(values) / sides.elapsed:>9,.0f} /s" if sides.elapsed else ""
        print(
            f"  {sides.clients:>7}  {label:14}{percentile(values, 50) * 1000:>9.2f}"
            f"{percentile(values, 99) * 1000:>9.2f}{len(values):>10,}{rate}"
        )
    p50, p99 = sides.added()
    ok = p50 <= TARGET_P50 and p99 <= TARGET_P99
    target = f"   (target at 200: p50 <= 1 ms, p99 <= 5 ms: {'met' if ok else 'MISSED'})"
    print(
        f"  {sides.clients:>7}  {'added':14}{p50 * 1000:>9.2f}{p99 * 1000:>9.2f}"
        + (target if sides.clients >= 200 else "")
    )
    if sides.errors:
        print(f"  errors: {sides.errors}")
    gateway = sides.cores.get("gateway")
    if gateway is not None and sides.elapsed:
        per = gateway / max(1, len(sides.gateway)) * sides.elapsed * 1e6
        print(f"  gateway CPU {gateway:.2f} cores, {per:,.0f} us per request through it")
    print_cpu(sides.cores)


def order(client: int, turn: int) -> tuple[str, str]:
    return ("direct", "gateway") if (client + turn) % 2 == 0 else ("gateway", "direct")


async def json_level(
    path: str, service_url: str, gateway_url: str, clients: int, seconds: float, token: str,
    processes: dict[str, list[int]],
) -> Sides:  # fmt: skip
    sides = Sides(clients)
    urls = {"direct": service_url, "gateway": gateway_url}
    connections = [{side: Connection(url) for side, url in urls.items()} for _ in range(clients)]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        # Open and warm every connection first: no handshake is measured.
        async with asyncio.TaskGroup() as warming:
            for c in connections:
                for side in urls:
                    warming.create_task(c[side].request("GET", path, headers))
        meter = CpuMeter(processes).start()
        started = time.perf_counter()
        deadline = started + seconds

        async def client(index: int) -> None:
            turn = 0
            while time.perf_counter() < deadline:
                for side in order(index, turn):
                    await connections[index][side].ready()
                    sent = time.perf_counter()
                    try:
                        reply = await connections[index][side].request("GET", path, headers)
                    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                        sides.error(f"{side} {type(exc).__name__}")
                        continue
                    if reply.status == 200:
                        sides.add(side, reply.done - sent)
                    else:
                        sides.error(f"{side} http {reply.status}")
                turn += 1

        async with asyncio.TaskGroup() as group:
            for i in range(clients):
                group.create_task(client(i))
        sides.elapsed = time.perf_counter() - started
        sides.cores = meter.stop()
    finally:
        for c in connections:
            for connection in c.values():
                connection.close()
    return sides


async def section_json(
    args: argparse.Namespace, gateway_url: str, processes: dict[str, list[int]]
) -> list[Sides]:
    path = args.json_path
    service_url = next((u for p, u in SERVICE_OF.items() if path.startswith(p)), None)
    if service_url is None:
        raise SystemExit(f"--json-path must start with one of {sorted(SERVICE_OF)}")
    async with httpx.AsyncClient(base_url=AUTH_URL, timeout=30) as auth:
        response = await auth.post(
            "/api/auth/login", json={"username": USER[0], "password": USER[1]}
        )
        response.raise_for_status()
    token = response.json()["accessToken"]  # valid 15 minutes: the whole bench
    levels = []
    for clients in args.clients:
        levels.append(
            await json_level(
                path, service_url, gateway_url, clients, args.seconds, token, processes
            )
        )
    print(
        f"(1) GET {path} as {USER[0]}: {service_url} direct vs {gateway_url}, interleaved, "
        f"{args.seconds:g} s per level, to the last byte of the answer:"
    )
    print(f"  {'clients':>7}  {'':14}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}")
    for sides in levels:
        print_level(sides)
    return levels


async def one_stream(
    connection: Connection, user: User, session_id: str, message: bytes, sides: Sides, side: str
) -> None:
    headers = {
        "Authorization": f"Bearer {user.token}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
    }
    await connection.ready()
    sent = time.perf_counter()
    try:
        reply = await connection.request(
            "POST", f"/api/chat/sessions/{session_id}/stream", headers, message
        )
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        sides.error(f"{side} {type(exc).__name__}")
        return
    if reply.status != 200:
        sides.error(f"{side} http {reply.status}")
    elif b"event: complete" not in reply.body:
        sides.error(f"{side} no complete event")
    else:
        sides.add(side, reply.first - sent)


async def stream_level(
    platform: Platform, gateway_url: str, clients: int, pairs_each: int, settle: Settler,
    processes: dict[str, list[int]],
) -> Sides:  # fmt: skip
    """``clients`` clients at once, each doing ``pairs_each`` (direct, gateway) pairs in turn."""
    sides = Sides(clients)
    message = json.dumps(
        {"message": prompt("Benchmark: answer briefly.", tokens=8, per_second=0)}
    ).encode()
    pairs = await platform.prepare(2 * clients * pairs_each, f"{clients} clients")
    random.shuffle(pairs)
    urls = {"direct": CHAT_URL, "gateway": gateway_url}
    connections = [{side: Connection(url) for side, url in urls.items()} for _ in range(clients)]
    try:
        async with asyncio.TaskGroup() as opening:
            for c in connections:
                for side in urls:
                    opening.create_task(c[side].open())
        await settle()
        if clients == 1:
            meter = CpuMeter(processes).start()
            for turn in range(min(pairs_each, len(pairs) // 2)):
                for side in order(0, turn):
                    user, session_id = pairs.pop()
                    await one_stream(connections[0][side], user, session_id, message, sides, side)
            sides.cores = meter.stop()
            return sides
        # Rounds of all the clients at once, each on a quiet stack (CPU: the last round's).
        for turn in range(pairs_each):
            if turn:
                await settle()
            mine = [pairs[2 * i : 2 * i + 2] for i in range(clients)]
            del pairs[: 2 * clients]

            async def client(index: int, chosen: list[list[tuple[User, str]]], turn: int) -> None:
                for side, (user, session_id) in zip(
                    order(index, turn), chosen[index], strict=False
                ):
                    await one_stream(
                        connections[index][side], user, session_id, message, sides, side
                    )

            meter = CpuMeter(processes).start()
            async with asyncio.TaskGroup() as group:
                for i in range(clients):
                    group.create_task(client(i, mine, turn))
            sides.cores = meter.stop()
    finally:
        for c in connections:
            for connection in c.values():
                connection.close()
    return sides


async def section_streams(
    args: argparse.Namespace, gateway_url: str, processes: dict[str, list[int]]
) -> list[Sides]:
    platform = Platform(STREAMS_PER_USER, label="bench.gateway")
    try:
        problem = await platform.check()
        if problem:
            print(f"(2) skipped: {problem}")
            return []
        platform.admin_token = await platform.login(*ADMIN)
        settle = Settler(processes)
        levels = []
        for clients in args.clients:
            each = args.stream_pairs if clients == 1 else args.stream_rounds
            levels.append(
                await stream_level(platform, gateway_url, clients, each, settle, processes)
            )
    finally:
        await platform.aclose()
    print(
        f"(2) first SSE byte of POST /api/chat/sessions/{{id}}/stream (8-token answer): "
        f"{CHAT_URL} direct vs {gateway_url}, interleaved; 1 client: "
        f"{args.stream_pairs} pairs in turn; more: {args.stream_rounds} rounds of one pair "
        "each, all clients at once (CPU: the last round):"
    )
    print(f"  {'clients':>7}  {'':14}{'p50 ms':>9}{'p99 ms':>9}{'streams':>10}")
    for sides in levels:
        print_level(sides)
    return levels


# --- the gateway measured ---------------------------------------------------------------------


def listening_pid(port: int) -> int | None:
    """The process listening on 127.0.0.1/0.0.0.0:``port`` (from /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as file:
            for line in file.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                        return int(entry)
    return None


@contextlib.asynccontextmanager
async def measured_gateway(url: str | None) -> AsyncIterator[str | None]:
    """``url``, or a copy of the stack's gateway with its edge limit off on OWN_GATEWAY_PORT
    for as long as the context lasts (None when it did not become ready)."""
    if url:
        yield url
        return
    try:
        async with service_copy(
            "gateway",
            "gateway-bench",
            OWN_GATEWAY_PORT,
            {"EDGE_REQUESTS_PER_MINUTE": "0"},
            ready_seconds=READY_SECONDS,
        ) as own:
            yield own
    except NotReady as exc:
        print(f"the bench's gateway is not ready: {exc}")
        yield None


async def bench(args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        for name, url in [("auth", AUTH_URL), ("chat", CHAT_URL)]:
            try:
                (await client.get(f"{url}/api/health")).raise_for_status()
            except httpx.HTTPError as exc:
                print(f"gateway benchmark: skipped, no {name} at {url} ({exc}); run make dev")
                return 0
    async with measured_gateway(args.gateway_url) as gateway_url:
        if gateway_url is None:
            return 1
        return await measure(args, gateway_url)


async def measure(args: argparse.Namespace, gateway_url: str) -> int:
    processes = stack_processes()
    pid = listening_pid(urlsplit(gateway_url).port or 80)
    processes.pop("gateway", None)  # the local stack's: not the one measured, unless found
    if pid is not None:
        processes["gateway"] = [pid]
    print(
        f"gateway benchmark: gateway {gateway_url} (pid {pid or 'not found'}, edge limit off); "
        f"{os.cpu_count()} CPUs; event loop {EVENT_LOOP}"
    )
    started = time.perf_counter()
    results = []
    if not args.skip_json:
        levels = await section_json(args, gateway_url, processes)
        results += [("(1) JSON request", s) for s in levels]
        print()
    if not args.skip_streams:
        levels = await section_streams(args, gateway_url, processes)
        results += [("(2) first SSE byte", s) for s in levels]
        print()
    print("summary (added by the gateway, at the most clients):")
    for what, sides in results:
        if sides.clients == max(args.clients):
            p50, p99 = sides.added()
            print(
                f"  {what:22} p50 {p50 * 1000:7.2f} ms (<= 1 ms)   "
                f"p99 {p99 * 1000:7.2f} ms (<= 5 ms)"
            )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="(1): per level")
    parser.add_argument("--clients", default="1,200", help="concurrent clients, per level")
    parser.add_argument("--json-path", default="/api/auth/me")
    parser.add_argument("--stream-pairs", type=int, default=40, help="(2): pairs at 1 client")
    parser.add_argument("--stream-rounds", type=int, default=2, help="(2): rounds at more")
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("GATEWAY_URL"),
        help="a running gateway with EDGE_REQUESTS_PER_MINUTE=0 (default: start one)",
    )
    parser.add_argument("--skip-json", action="store_true")
    parser.add_argument("--skip-streams", action="store_true")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    run(bench(args))


if __name__ == "__main__":
    main()
