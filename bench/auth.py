"""Auth benchmark: logins per second over HTTP, and the CPU auth spends on `GET /api/auth/me`.

    uv run python -m bench.auth [--seconds 5] [--concurrency 8] [--me-clients 1,50]

It needs a running stack (`make dev`): it logs user1 in over HTTP from concurrent clients and
reads the argon2 parameters the server really used from the stored hash. Then `GET
/api/auth/me` as user1 with one access token, from each level of --me-clients clients at
once, each on one keep-alive connection (raw sockets, as bench/gateway.py's), back to back for
--seconds: requests per second, latency, and the CPU the auth process used per request
(target <= 0.5 ms), with the rest of the machine's CPU beside it (a busy machine inflates
it). The auth measured is one of its own, a copy of the stack's (same settings and database,
as a second replica) on port 3090 (log in .local/logs/auth-bench.log), stopped after: the
stack's auth also serves whoever else uses the stack, whose logins (argon2, tens of ms of CPU
each) would count as the bench's. Offline token verification (ours against PyJWT, target
20,000/s per core) is `python -m bench.jwt_verify`.
"""

import argparse
import asyncio
import os
import time

import asyncpg
import httpx

from bench.gateway import Connection
from bench.harness import (
    AUTH_URL,
    CpuMeter,
    NotReady,
    percentile,
    print_cpu,
    run,
    service_copy,
    stack_processes,
)

AUTH_DATABASE_URL = os.environ.get("AUTH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/auth")
USER = {"username": "user1", "password": "User1@123"}
ME_TARGET_SECONDS = 0.0005  # auth CPU per GET /api/auth/me
OWN_AUTH = "auth-bench"
OWN_AUTH_PORT = 3090


async def argon2_parameters() -> str:
    try:
        conn = await asyncpg.connect(AUTH_DATABASE_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"unknown (cannot read {AUTH_DATABASE_URL}: {exc})"
    try:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE username = 'user1'")
    finally:
        await conn.close()
    # $argon2id$v=19$m=19456,t=2,p=1$salt$hash
    return str(stored).split("$")[3] if stored else "unknown (user1 not found)"


async def bench_logins(seconds: float, concurrency: int) -> None:
    latencies: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.post("/api/auth/login", json=USER)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=AUTH_URL, limits=limits, timeout=30) as client:
        try:
            (await client.get("/api/health")).raise_for_status()
        except httpx.HTTPError as exc:
            print(f"logins over HTTP: skipped, no auth service at {AUTH_URL} ({exc}); run make dev")
            return
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(f"logins over HTTP to {AUTH_URL}, {concurrency} concurrent clients, {seconds:.0f} s:")
    print(
        f"  {len(latencies) / elapsed:,.1f} logins/s   p50 {p50:.1f} ms   p99 {p99:.1f} ms   "
        f"failures {failures}"
    )
    print(f"  argon2id parameters of the stored hash: {await argon2_parameters()}")


async def me_level(
    url: str, token: str, clients: int, seconds: float, processes: dict[str, list[int]]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    connections = [Connection(url) for _ in range(clients)]
    latencies: list[float] = []
    failures: dict[str, int] = {}
    try:
        async with asyncio.TaskGroup() as warming:  # no handshake is measured
            for connection in connections:
                warming.create_task(connection.request("GET", "/api/auth/me", headers))
        meter = CpuMeter(processes).start()
        deadline = time.perf_counter() + seconds

        async def client(connection: Connection) -> None:
            while time.perf_counter() < deadline:
                await connection.ready()
                sent = time.perf_counter()
                try:
                    reply = await connection.request("GET", "/api/auth/me", headers)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                    continue
                if reply.status == 200:
                    latencies.append(reply.done - sent)
                else:
                    failures[f"http {reply.status}"] = failures.get(f"http {reply.status}", 0) + 1

        async with asyncio.TaskGroup() as group:
            for connection in connections:
                group.create_task(client(connection))
        cores = meter.stop()
    finally:
        for connection in connections:
            connection.close()
    per = cores.get(OWN_AUTH, 0.0) * meter.elapsed / max(1, len(latencies))
    met = "met" if per <= ME_TARGET_SECONDS else "MISSED"
    print(
        f"  {clients:>4} clients: {len(latencies) / meter.elapsed:>8,.0f} /s   "
        f"p50 {percentile(latencies, 50) * 1000:.2f} ms   "
        f"p99 {percentile(latencies, 99) * 1000:.2f} ms"
        f"   auth CPU {per * 1e6:,.0f} us per /me (target <= 500 us: {met})"
        + (f"   failures {failures}" if failures else "")
    )
    print_cpu(cores)


async def bench_me(seconds: float, levels: list[int]) -> int:
    async with httpx.AsyncClient(base_url=AUTH_URL, timeout=30) as client:
        response = await client.post("/api/auth/login", json=USER)
        response.raise_for_status()
    token = response.json()["accessToken"]
    try:
        async with service_copy("auth", OWN_AUTH, OWN_AUTH_PORT, ready_seconds=60) as url:
            processes = stack_processes()
            print(
                f"GET /api/auth/me as user1 on the bench's own auth {url} "
                f"(pid {processes.get(OWN_AUTH)}), keep-alive clients, {seconds:.0f} s per level:"
            )
            for clients in levels:
                await me_level(url, token, clients, seconds, processes)
    except NotReady as exc:
        print(f"the bench's auth is not ready: {exc}")
        return 1
    return 0


async def bench(args: argparse.Namespace) -> int:
    await bench_logins(args.seconds, args.concurrency)
    return await bench_me(args.seconds, args.me_clients)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.auth", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--me-clients", default="1,50", help="GET /me: clients, per level")
    args = parser.parse_args()
    args.me_clients = [int(c) for c in args.me_clients.split(",")]
    run(bench(args))


if __name__ == "__main__":
    main()
