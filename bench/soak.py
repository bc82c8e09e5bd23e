"""Soak: users streaming for minutes against the running stack; errors and time to first token
minute by minute, each service's memory from start to end, and whether billing came out exact.

    uv run python bench/soak.py [--users 10] [--minutes 5] [--per-minute 20] [--tokens 40]
                                [--pace 20] [--streams-per-session 10] [--via gateway|chat]

Needs the local stack (`make dev`). It registers --users throwaway users (soak<run>u<n>), each
funded by the plan's grant, and has each stream answers back to back for --minutes (fractions
allowed): a --tokens-token answer at --pace tokens/s, at most --per-minute streams a minute
(chat allows each user 30 writes a minute, a new session every --streams-per-session streams
included), the users' first streams spread over one stream's interval. Every request goes
through the gateway (--via chat: straight to chat's port; the gateway's edge limit, 600 a
minute per user, is far above this); setting up users and checking balances go straight to
auth and accounting.

Per minute (by when a stream started): streams, errors (any stream that did not end with
`complete`: a refused request, an `error` event, a broken connection) and p50/p99 time to
first token (from sending the request to the first `chunk`). Then, with the issue's targets:

* errors: 0;
* billing exact: once no credits are held, every user's balance dropped by exactly what
  accounting's calculator (POST /api/credits/calculate) prices their answers at, from the
  tokens each `complete` event named (an answer that did not complete: the tokens chat stored
  with it), and their usage stats show the same credits;
* ledger-check clean, and no new message in accounting.usage-recorded.dlq;
* RSS flat: each process of .local/run/*.pid (VmRSS with its children, from /proc) at the
  start, after the first minute and at the end; flat when the end is within 10% (or 16 MiB)
  of the first minute's figure (of the start's, for runs under two minutes).
"""

import argparse
import asyncio
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import aio_pika
import httpx
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from streams import (
    ACCOUNTING_URL,
    AUTH_URL,
    CHAT_URL,
    MONGO_DATABASE,
    MONGO_URL,
    RUN_DIR,
    descendants,
    met,
    percentile,
    prompt,
    rss_kib,
    sse_events,
    uvloop,
)

GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
LEDGER_DB = os.environ.get(
    "ACCOUNTING_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/accounting"
)
USAGE_DLQ = "accounting.usage-recorded.dlq"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PASSWORD = "Soak-Passw0rd!"
TOKEN_REFRESH_SECONDS = 600  # access tokens live 15 minutes
SETTLE_SECONDS = 30
FLAT_RATIO, FLAT_KIB = 0.10, 16 * 1024


@dataclass
class User:
    username: str
    token: str
    refresh: str
    since: float = field(default_factory=time.monotonic)
    before: Decimal = Decimal(0)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Answer:
    user: User
    started: float  # time.perf_counter(), as the SSE receive times
    ttft: float | None = None
    outcome: str = ""  # "complete", or what went wrong
    stream_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


# --- memory ---------------------------------------------------------------------------------


def stack_rss() -> dict[str, int]:
    """KiB resident per process of the local stack's pid files (SecantusDB's: with its server,
    a child of the uvx wrapper the pid file names)."""
    found = {}
    for pid_file in sorted(RUN_DIR.glob("*.pid")):
        text = pid_file.read_text().strip()
        if text.isdigit() and os.path.isdir(f"/proc/{text}"):
            found[pid_file.stem] = sum(rss_kib(pid) for pid in descendants(int(text)))
    return found


def is_flat(baseline: int, end: int) -> bool:
    return end - baseline <= max(baseline * FLAT_RATIO, FLAT_KIB)


# --- the platform ---------------------------------------------------------------------------


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

    async def register(self, name: str) -> User:
        response = await self.auth.post(
            "/api/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        response.raise_for_status()
        body = response.json()
        user = User(name, body["accessToken"], body["refreshToken"])
        deadline = time.perf_counter() + 30
        while True:  # the plan's grant comes over the bus
            user.before = (await self.balance(user))[0]
            if user.before > 0:
                return user
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{name} got no plan grant in 30 s")
            await asyncio.sleep(0.2)

    async def fresh_token(self, user: User) -> None:
        if time.perf_counter() - user.since < TOKEN_REFRESH_SECONDS:
            return
        response = await self.auth.post("/api/auth/refresh", json={"refreshToken": user.refresh})
        response.raise_for_status()
        user.token, user.refresh = response.json()["accessToken"], response.json()["refreshToken"]
        user.since = time.perf_counter()

    async def balance(self, user: User) -> tuple[Decimal, Decimal]:
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
            json={"title": "bench/soak.py", "modelId": MODEL},
            headers=user.headers,
        )
        return response.json()["sessionId"] if response.status_code == 201 else None

    async def stream(self, answer: Answer, session_id: str, message: str) -> None:
        try:
            async with self.chat.stream(
                "POST",
                f"/api/chat/sessions/{session_id}/stream",
                json={"message": message},
                headers=answer.user.headers,
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    answer.outcome = f"http {response.status_code} {error_code(response)}".strip()
                    return
                async for event, _, data, received in sse_events(response):
                    if event == "model":
                        answer.stream_id = json.loads(data)["streamingSessionId"]
                    elif event == "chunk" and answer.ttft is None:
                        answer.ttft = received - answer.started
                    elif event == "complete":
                        body = json.loads(data)
                        answer.input_tokens = body["inputTokens"]
                        answer.output_tokens = body["outputTokens"]
                        answer.outcome = "complete"
                        return
                    elif event == "error":
                        answer.outcome = f"error event {json.loads(data).get('code', '')}"
                        return
                answer.outcome = "ended without complete"
        except (httpx.HTTPError, ValueError) as exc:
            answer.outcome = type(exc).__name__


def error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except ValueError:
        return ""


async def dead_letter_count() -> int | None:
    try:
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    except (aio_pika.exceptions.AMQPError, OSError):
        return None
    async with connection:
        channel = await connection.channel()
        try:
            queue = await channel.declare_queue(USAGE_DLQ, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return 0
        return queue.declaration_result.message_count


def ledger_check() -> tuple[bool, str]:
    command = shutil.which("ledger-check")
    if command is None:
        return False, "ledger-check is not installed (uv sync --all-packages)"
    result = subprocess.run([command, LEDGER_DB], capture_output=True, text=True, timeout=120)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, lines[-1] if lines else f"exit {result.returncode}"


async def stored_tokens(stream_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Input and output tokens chat stored with these answers (those that did not complete)."""
    if not stream_ids:
        return {}
    client = AsyncMongoClient(MONGO_URL, serverSelectionTimeoutMS=3000)
    try:
        cursor = client[MONGO_DATABASE].messages.find(
            {"role": "assistant", "streamingSessionId": {"$in": stream_ids}}
        )
        return {
            d["streamingSessionId"]: (d["tokens"]["input"], d["tokens"]["output"])
            async for d in cursor
        }
    except PyMongoError:
        return {}
    finally:
        await client.close()


# --- the run --------------------------------------------------------------------------------


@dataclass
class Run:
    stack: Stack
    args: argparse.Namespace
    started: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    rss: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    @property
    def interval(self) -> float:
        return 60 / self.args.per_minute

    async def user_loop(self, user: User, offset: float, end: float) -> None:
        await asyncio.sleep(offset)
        session, used = None, 0
        while time.perf_counter() < end:
            began = time.perf_counter()
            await self.stack.fresh_token(user)
            if session is None or used >= self.args.streams_per_session:
                session, used = await self.stack.new_session(user), 0
            answer = Answer(user, time.perf_counter())
            self.answers.append(answer)
            if session is None:
                answer.outcome = "session refused"
            else:
                used += 1
                message = prompt(
                    f"Soak {uuid.uuid4().hex[:6]}.",
                    tokens=self.args.tokens,
                    per_second=self.args.pace,
                )
                await self.stack.stream(answer, session, message)
            await asyncio.sleep(max(0.0, began + self.interval - time.perf_counter()))

    def minute_row(self, minute: int) -> str:
        low, high = self.started + minute * 60, self.started + (minute + 1) * 60
        mine = [a for a in self.answers if low <= a.started < high]
        errors = collections.Counter(a.outcome for a in mine if a.outcome != "complete")
        ttfts = [a.ttft for a in mine if a.ttft is not None]
        kinds = f"  {dict(errors)}" if errors else ""
        return (
            f"  {minute + 1:>6}{len(mine):>9}{sum(errors.values()):>8}"
            f"{percentile(ttfts, 50) * 1000:>10.1f}{percentile(ttfts, 99) * 1000:>10.1f}{kinds}"
        )

    async def reporter(self, minutes: int, end: float) -> None:
        """Each minute's row once its streams are over; the memory after the first minute."""
        answer_seconds = self.args.tokens / self.args.pace + 5
        for minute in range(minutes):
            due = min(self.started + (minute + 1) * 60, end) + answer_seconds
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            print(self.minute_row(minute), flush=True)
            if minute == 0 and minutes > 1:
                self.rss.append(("after 1 min", stack_rss()))

    async def go(self) -> None:
        args = self.args
        run_id = uuid.uuid4().hex[:6]
        gate = asyncio.Semaphore(4)

        async def register(n: int) -> User:
            async with gate:
                return await self.stack.register(f"soak{run_id}u{n}")

        setup = time.perf_counter()
        users = await asyncio.gather(*(register(n) for n in range(args.users)))
        dead_before = await dead_letter_count()
        print(
            f"soak: {args.users} users, {args.minutes:g} min, {args.tokens}-token answers at "
            f"{args.pace:g} tokens/s, at most {args.per_minute} streams a minute each, via "
            f"{args.via}; {os.cpu_count()} CPUs; run {run_id} "
            f"(setup {time.perf_counter() - setup:.1f} s)"
        )
        self.rss.append(("start", stack_rss()))
        print(f"  {'minute':>6}{'streams':>9}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}   (TTFT)")
        self.started = time.perf_counter()
        end = self.started + args.minutes * 60
        minutes = math.ceil(args.minutes)
        reporter = asyncio.create_task(self.reporter(minutes, end))
        await asyncio.gather(
            *(
                self.user_loop(user, i * self.interval / len(users), end)
                for i, user in enumerate(users)
            )
        )
        self.rss.append(("end", stack_rss()))
        await reporter
        await self.summary(users, dead_before)

    async def billing(self, users: list[User]) -> tuple[int, list[str]]:
        """(users billed exactly, what was wrong for the others)."""
        unfinished = [a.stream_id for a in self.answers if a.outcome != "complete" and a.stream_id]
        stored = await stored_tokens(unfinished)
        exact, problems = 0, []
        for user in users:
            expected = Decimal(0)
            for a in self.answers:
                if a.user is not user or a.stream_id is None:
                    continue
                tokens = (
                    (a.input_tokens, a.output_tokens)
                    if a.outcome == "complete"
                    else stored.get(a.stream_id)
                )
                if tokens is not None:  # never stored: never charged
                    expected += await self.stack.price(user, *tokens)
            deadline = time.perf_counter() + SETTLE_SECONDS
            while True:
                total, held = await self.stack.balance(user)
                if (
                    held == 0 and user.before - total == expected
                ) or time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.5)
            usage = await self.stack.usage_credits(user)
            if held == 0 and user.before - total == expected == usage:
                exact += 1
            else:
                problems.append(
                    f"{user.username}: balance -{user.before - total}, usage {usage}, "
                    f"held {held}, priced {expected}"
                )
        return exact, problems

    async def summary(self, users: list[User], dead_before: int | None) -> None:
        answers = self.answers
        errors = collections.Counter(a.outcome for a in answers if a.outcome != "complete")
        ttfts = [a.ttft for a in answers if a.ttft is not None]
        exact, problems = await self.billing(users)
        clean, ledger_line = ledger_check()
        dead_after = await dead_letter_count()
        new_dead = None if None in (dead_before, dead_after) else dead_after - dead_before
        print("summary:")
        n_errors = sum(errors.values())
        print(
            f"  errors                {n_errors:>6} of {len(answers):,} streams  (target 0)   "
            f"{met(n_errors == 0)}" + (f"  {dict(errors)}" if errors else "")
        )
        print(
            f"  time to first token   p50 {percentile(ttfts, 50) * 1000:.1f} ms, "
            f"p99 {percentile(ttfts, 99) * 1000:.1f} ms over the run"
        )
        print(
            f"  billing exact         {exact:>6} of {len(users)} users  (target all)   "
            f"{met(exact == len(users))}"
        )
        for problem in problems[:5]:
            print(f"      {problem}")
        print(
            f"  ledger check          {'clean' if clean else 'NOT clean'}  (target clean)   "
            f"{met(clean)}  [{ledger_line}]"
        )
        print(
            f"  dead letters          {'?' if new_dead is None else new_dead:>6} new in "
            f"{USAGE_DLQ}  (target 0)   {met(new_dead == 0)}"
        )
        samples = dict(self.rss)
        start, end = samples["start"], samples["end"]
        middle = "after 1 min" if "after 1 min" in samples else None
        baseline = samples[middle] if middle else start
        print(
            f"  RSS, MiB              start{'  after 1 min' if middle else ''}    end   "
            f"(target flat: end within {FLAT_RATIO:.0%} or {FLAT_KIB // 1024} MiB of "
            f"{middle or 'start'})"
        )
        for name in end:
            if name not in baseline:
                continue
            flat = is_flat(baseline[name], end[name])
            between = f"{baseline[name] / 1024:>13.1f}" if middle else ""
            print(
                f"    {name:18}{start.get(name, 0) / 1024:>7.1f}{between}{end[name] / 1024:>7.1f}"
                f"   {'flat' if flat else 'GREW'}  {met(flat)}"
            )
        print(f"total {time.perf_counter() - self.started:.0f} s")


async def soak(args: argparse.Namespace) -> None:
    stack = Stack(args.via)
    try:
        problem = await stack.check()
        if problem:
            print(f"soak: skipped, {problem}")
            sys.exit(1)
        await Run(stack, args).go()
    finally:
        await stack.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--per-minute", type=int, default=20, help="streams a minute per user")
    parser.add_argument("--tokens", type=int, default=40, help="answer length, tokens")
    parser.add_argument("--pace", type=float, default=20, help="tokens per second")
    parser.add_argument("--streams-per-session", type=int, default=10)
    parser.add_argument("--via", choices=["gateway", "chat"], default="gateway")
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    asyncio.run(soak(args))


if __name__ == "__main__":
    main()
