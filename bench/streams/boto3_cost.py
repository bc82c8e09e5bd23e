"""(b') boto3's own CPU per streamed event: converse_stream calls at once from threads in this
process and nothing else. Chat must spend at least that per token, which bounds (b)."""

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3
from botocore.config import Config

from bench.harness import MAX_TOKENS, MODEL, SIMULATOR_URL, prompt

from .answers import PACE

STREAMS_AT_TARGET = 2000  # the capacity (b) aims at


def boto3_cost(streams: int, tokens: int) -> tuple[int, float, float]:
    """Stream ``streams`` answers at once through boto3's converse_stream from worker threads,
    as chat does, but nothing else: (events, CPU seconds of this process, wall seconds)."""
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
    try:
        with ThreadPoolExecutor(streams) as threads:
            events = sum(threads.map(one, range(streams)))
    finally:
        client.close()
    return events, time.process_time() - cpu, time.perf_counter() - wall


@dataclass
class Boto3Cost:
    per_event: float  # CPU seconds

    @property
    def cores_at_target(self) -> float:
        return self.per_event * STREAMS_AT_TARGET * PACE

    def summary(self) -> list[str]:
        return [
            f"      boto3 alone: {self.per_event * 1e6:.0f} us CPU per event = "
            f"{self.cores_at_target:.1f} cores at {STREAMS_AT_TARGET:,} streams"
        ]


async def section_boto3(streams: int, tokens: int) -> Boto3Cost:
    events, cpu, wall = await asyncio.to_thread(boto3_cost, streams, tokens)
    cost = Boto3Cost(cpu / max(events, 1))
    print(
        f"(b') boto3's own cost: {streams} converse_stream calls at once from threads, "
        f"{tokens} tokens each at {PACE:g} tokens/s, nothing else ({wall:.0f} s):"
    )
    print(
        f"  {events:,} events, {cpu:.2f} s CPU: {cost.per_event * 1e6:.0f} us per event, so "
        f"{STREAMS_AT_TARGET:,} streams at {PACE:g} tokens/s need {cost.cores_at_target:.1f} "
        f"cores for boto3 alone (this machine has {os.cpu_count()})"
    )
    return cost
