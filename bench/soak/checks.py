"""What the soak checks once its streams are over, beyond its own counts: the dead-letter
queue, the ledger, the tokens chat stored with unfinished answers, and flat memory."""

import os
import shutil
import subprocess
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from bench.harness import MONGO_DATABASE, MONGO_URL

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
LEDGER_DB = os.environ.get(
    "ACCOUNTING_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/accounting"
)
USAGE_DLQ = "accounting.usage-recorded.dlq"
FLAT_RATIO, FLAT_KIB = 0.10, 16 * 1024


def is_flat(baseline: int, end: int) -> bool:
    return end - baseline <= max(baseline * FLAT_RATIO, FLAT_KIB)


async def dead_letter_count() -> int | None:
    """Messages in USAGE_DLQ (0 when it does not exist), None when RabbitMQ does not answer."""
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
        count = queue.declaration_result.message_count
        return int(count) if count is not None else None


def ledger_check() -> tuple[bool, str]:
    """Whether `ledger-check` finds the accounting ledger clean, and its last line."""
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
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL, serverSelectionTimeoutMS=3000
    )
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
