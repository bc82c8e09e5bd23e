"""Waiting for a quiet stack, and what it did meanwhile: its log's warnings, the usage relay's
backlog (answers whose usage record chat has still to publish compete with what is measured)."""

import asyncio
import collections
import contextlib
import json
import time
from dataclasses import dataclass

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from .proc import cpu_seconds
from .settings import LOG_DIR, MONGO_DATABASE, MONGO_URL

SETTLE_SECONDS = 5.0  # the longest wait for a quiet stack between bursts and levels
QUIET_CORES = 0.15  # chat and MongoDB together under this: quiet


@dataclass
class Settler:
    """Waits, before each burst or level, until chat and MongoDB are nearly idle: the answers
    before have been stored and the outbox relay has published their usage records."""

    processes: dict[str, list[int]]
    chat: str = "chat"  # which of the processes is the chat measured (a copy's name, say)
    waited: float = 0.0
    busy: int = 0  # times the stack was still busy after SETTLE_SECONDS

    async def __call__(self, limit: float = SETTLE_SECONDS) -> None:
        pids = self.processes.get(self.chat, []) + self.processes.get("mongodb", [])
        started = time.perf_counter()
        while True:
            before = sum(cpu_seconds(p) for p in pids)
            await asyncio.sleep(0.25)
            if (sum(cpu_seconds(p) for p in pids) - before) / 0.25 < QUIET_CORES:
                break
            if time.perf_counter() - started >= limit:
                self.busy += 1
                break
        self.waited += time.perf_counter() - started

    def report(self) -> str:
        busy = f", still busy after {SETTLE_SECONDS:g} s {self.busy} times" if self.busy else ""
        return f"waited {self.waited:.0f} s in all for chat and MongoDB to go quiet{busy}"


class LogWatch:
    """Warnings and errors a local stack's service logged (JSON lines) meanwhile."""

    def __init__(self, service: str = "chat") -> None:
        self._path = LOG_DIR / f"{service}.log"
        self._offset: int | None = None

    def start(self) -> "LogWatch":
        with contextlib.suppress(OSError):
            self._offset = self._path.stat().st_size
        return self

    def stop(self) -> collections.Counter[str]:
        found: collections.Counter[str] = collections.Counter()
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


def print_log(found: collections.Counter[str]) -> None:
    if found:
        worst = "; ".join(f"{n:,} x {what}" for what, n in found.most_common(3))
        print(f"  chat log meanwhile: {worst}")


async def usage_backlog() -> int | None:
    """Answers whose usage record the chat's relay has not published yet (MongoDB outbox)."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        MONGO_URL, serverSelectionTimeoutMS=2000
    )
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
