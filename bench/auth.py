"""Auth benchmark: logins per second over HTTP.

    uv run python -m bench.auth [--seconds 5] [--concurrency 8]

It needs a running stack (`make dev`): it logs user1 in over HTTP from concurrent clients and
reads the argon2 parameters the server really used from the stored hash. Offline token
verification (ours against PyJWT, target 20,000/s per core) is `python -m bench.jwt_verify`.
"""

import argparse
import asyncio
import os
import time

import asyncpg
import httpx

from bench.harness import AUTH_URL, percentile, run

AUTH_DATABASE_URL = os.environ.get("AUTH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/auth")
USER = {"username": "user1", "password": "User1@123"}


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


async def bench(args: argparse.Namespace) -> int:
    await bench_logins(args.seconds, args.concurrency)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.auth", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
