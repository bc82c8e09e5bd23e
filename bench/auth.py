"""Auth benchmark: offline token verification rate, and logins per second over HTTP.

    uv run python -m bench.auth [--seconds 5] [--concurrency 8]

Part 1 runs in this process on one core: the platform's verifier against PyJWT's generic
decode of the same RS256 token (target: 20,000 verifications/s or more).
Part 2 needs a running stack (`make dev`): it logs user1 in over HTTP from concurrent clients
and reads the argon2 parameters the server really used from the stored hash.
"""

import argparse
import asyncio
import os
import time
from collections.abc import Callable

import asyncpg
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.harness import AUTH_URL, Target, percentile, run
from jwt_contract import SigningKey, StaticKeySet, TokenSigner, TokenVerifier

AUTH_DATABASE_URL = os.environ.get("AUTH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/auth")
VERIFICATIONS = Target(20_000, at_most=False, unit="/s")
USER = {"username": "user1", "password": "User1@123"}
BATCH = 500  # calls between looks at the clock


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls of ``fn`` per second, in a loop for ``seconds``."""
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(BATCH):
            fn()
        count += BATCH
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def bench_verification(seconds: float) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = SigningKey.from_pem(pem)
    signer = TokenSigner(key, issuer="bench", audience="platform")
    verifier = TokenVerifier(
        StaticKeySet([key.verification_key()]), issuer="bench", audience="platform"
    )
    token, _ = signer.issue(
        user_id="3f1c0c52-6d0c-4c1e-9a57-0c7f4f5a9b10",
        username="user1",
        email="user1@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=3600,
    )
    ours = rate(lambda: verifier.verify(token), seconds)
    public = private.public_key()
    generic = rate(
        lambda: jwt.decode(
            token, public, algorithms=["RS256"], audience="platform", issuer="bench"
        ),
        seconds,
    )
    print("token verification, in process, one core, RS256 2048-bit:")
    print(f"  jwt_contract.TokenVerifier   {VERIFICATIONS.show(ours, '>10,.0f')}")
    print(f"  pyjwt.decode (reference)     {generic:>10,.0f} /s")


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
    bench_verification(args.seconds)
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
