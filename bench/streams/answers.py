"""The answers the streams scenarios ask for, and the model simulator's own routes, streamed
straight to it (what chat's figures are compared with)."""

import asyncio
import collections
import json
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.harness import MAX_TOKENS, MODEL, Stream, prompt, refusal, timed_events

PACE = 20.0  # tokens per second of a paced answer
BRIEF = prompt("Benchmark: answer briefly.", tokens=8, per_second=0)  # 8 tokens, all at once

DirectRoute = Callable[[httpx.AsyncClient, str, Stream], Awaitable[None]]


async def simulator_openai(client: httpx.AsyncClient, message: str, result: Stream) -> None:
    """The simulator's OpenAI streaming route: the first content delta is the first token."""
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
                result.outcome = await refusal(response)
                return
            async for event, received in timed_events(response):
                if event.data == "[DONE]":
                    result.outcome = "complete" if result.chunks else "no content"
                    continue
                choices = json.loads(event.data).get("choices") or ()
                if any((c.get("delta") or {}).get("content") for c in choices):
                    result.chunk(event.id, received)
            result.outcome = result.outcome or "ended without [DONE]"
    except (httpx.HTTPError, ValueError) as exc:
        result.outcome = type(exc).__name__


async def simulator_bedrock(client: httpx.AsyncClient, message: str, result: Stream) -> None:
    """ConverseStream (AWS event-stream frames, not SSE) read raw: the first
    `contentBlockDelta` frame is the first token."""
    body = {
        "messages": [{"role": "user", "content": [{"text": message}]}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS},
    }
    result.started = time.perf_counter()
    try:
        async with client.stream("POST", f"/model/{MODEL}/converse-stream", json=body) as resp:
            if resp.status_code != 200:
                result.outcome = await refusal(resp)
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


async def burst(
    count: int, start: Callable[[int, Stream], Awaitable[None]]
) -> tuple[list[float], collections.Counter[str]]:
    """``count`` streams sent at once: their times to first token, and what went wrong."""
    results = [Stream() for _ in range(count)]
    await asyncio.gather(*(start(i, r) for i, r in enumerate(results)))
    errors = collections.Counter(r.outcome for r in results if r.outcome != "complete")
    return [r.ttft for r in results if r.ttft is not None], errors
