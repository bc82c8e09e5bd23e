"""One answer being generated: the model call, its events, and what it costs.

The producer runs as its own task, apart from the HTTP connection that asked for it, so a
client that drops and reconnects (Last-Event-ID) finds the answer still coming. When nobody
has been connected for ``grace`` seconds, the model call is cancelled and what was generated
is billed. Whatever the ending (complete, client gone, model failure, shutdown), the answer
is stored with its usage record in one document and accounting is told; an answer that
cannot be stored ends with ``error`` ``answer_not_stored`` and is not charged (settlement).

Should Redis lose the stream (a restart), the batcher rewrites its log whole from
``events_so_far``: the chunks are rebuilt from the pieces the answer keeps anyway, and only
the few other events (``model``, the end) are kept as sent, so a rewrite costs no memory
beyond them, and the CPU of encoding the answer's events once more.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis

from chat import metrics
from chat.accounting.client import HoldLost
from chat.config import ModelConfig
from chat.limits.token_limit import KeyTokenLimit
from chat.providers.base import ModelProvider, ProviderError, Turn, Usage
from chat.streaming.events import StreamEvent
from chat.streaming.resources import Dependencies
from chat.streaming.settlement import EndedAnswer, store_and_settle
from service_kit import ApiError

log = logging.getLogger(__name__)

FINAL_WRITE_TIMEOUT_SECONDS = 10
# An answer whose hold could not be extended stops this long before the hold would expire, so
# everything it generated is still covered by the hold.
HOLD_SAFETY_SECONDS = 10


def estimate_tokens(text: str) -> int:
    """A rough count where the provider reports none (an answer cut short): ~4 characters a
    token. Used for input tokens only; output tokens are counted piece by piece."""
    return max(1, math.ceil(len(text) / 4))


def chunk_data(piece: str, count: int) -> dict[str, Any]:
    """A chunk event's data: the piece and how many pieces so far."""
    return {"content": piece, "tokenCount": count}


@dataclass
class StreamRequest:
    stream_id: str  # the reservation id
    session_id: str
    user_id: str
    username: str
    model: ModelConfig
    turns: list[Turn]
    max_tokens: int
    system: str | None = None
    started_at: float = field(default_factory=time.perf_counter)
    hold_expires_at: float = math.inf  # wall-clock time the reservation expires
    token_limit: KeyTokenLimit | None = None  # the key's tokens per minute, counted at the end


class AnswerProducer:
    def __init__(self, request: StreamRequest, provider: ModelProvider, deps: Dependencies):
        self.request = request
        self._provider = provider
        self._deps = deps
        self._seq = 0
        self._ended = False
        self._pieces: list[str] = []
        self._kept: dict[int, StreamEvent] = {}  # the events that are not chunks, by seq
        self._usage: Usage | None = None
        self._attached = 0
        self._detached_at: float | None = None
        self._owner = {
            "sessionId": request.session_id,
            "userId": request.user_id,
            "modelId": request.model.id,
        }
        self.task: asyncio.Task | None = None
        self._pending = deps.batcher.open(
            request.stream_id, request.session_id, history=self.events_so_far
        )
        self._first_write: asyncio.Task | None = None

    def store_first(self, write: Awaitable[Any]) -> None:
        """Writes (the user's message, the session's count) that run alongside the model call
        and must be done before the answer is stored."""
        self._first_write = asyncio.ensure_future(write)

    # --- connections ------------------------------------------------------------------

    def attach(self) -> None:
        self._attached += 1
        self._detached_at = None

    def detach(self) -> None:
        self._attached -= 1
        if self._attached <= 0:
            self._detached_at = time.monotonic()

    # --- the answer -------------------------------------------------------------------

    async def run(self) -> None:
        request = self.request
        metrics.ACTIVE_STREAMS.inc()
        outcome, error = "failed", None
        generation: asyncio.Task | None = None
        try:
            # The model call goes first: its worker starts while the events below are sent.
            # `model` still comes before any chunk, which only arrives in a later turn.
            generation = asyncio.create_task(self._generate())
            self._pending.begin(
                {
                    **self._owner,
                    "username": request.username,
                    "streamingSessionId": request.stream_id,
                    "startedAt": time.time(),
                    # What another replica needs to end it, should this one die (recovery).
                    "replica": self._deps.replica_id,
                    "promptTokens": estimate_tokens(
                        (request.system or "") + "".join(turn.text for turn in request.turns)
                    ),
                }
            )
            self._emit(
                "model", {"modelId": request.model.id, "streamingSessionId": request.stream_id}
            )
            cancelled_for = await self._watch(generation)
            outcome, error = await self._outcome(generation, cancelled_for)
        except asyncio.CancelledError:
            # The service is shutting down. Cancellation is delivered once: the answer is
            # still stored and billed below, before this task ends.
            outcome = "interrupted"
            error = ProviderError("The service restarted", code="cancelled")
            if generation is not None:
                generation.cancel()
                await asyncio.gather(generation, return_exceptions=True)
        finally:
            metrics.ACTIVE_STREAMS.dec()
            metrics.STREAMS_FINISHED.labels(outcome).inc()
        try:
            await self._finish(outcome, error)
        except Exception:
            log.exception(
                "finishing an answer failed", extra={"streamingSessionId": request.stream_id}
            )
            if not self._ended:  # whoever listens is not left waiting for an end
                self._emit(
                    "error", {"message": "The answer could not be ended", "code": "internal_error"}
                )
                await self._written()
        finally:
            self._pending.close()

    async def _outcome(
        self, generation: asyncio.Task, cancelled_for: str | None
    ) -> tuple[str, ProviderError | None]:
        try:
            await generation
        except asyncio.CancelledError:
            if not generation.cancelled():
                raise  # this task itself was cancelled
            if cancelled_for == "hold_lost":
                return "interrupted", ProviderError(
                    "Stopped: the credit hold for this answer could not be kept",
                    code="hold_lost",
                )
            reason = "the client went away" if cancelled_for else "the answer was cancelled"
            return "interrupted", ProviderError(f"Cancelled: {reason}", code="cancelled")
        except ProviderError as exc:
            metrics.PROVIDER_ERRORS.labels(self.request.model.provider, exc.code).inc()
            return "failed", exc
        except TimeoutError:
            return "interrupted", ProviderError("The answer took too long", code="timeout")
        return "complete", None

    async def _generate(self) -> None:
        request = self.request
        tokens = metrics.TOKENS_STREAMED.labels(request.model.id)
        async with asyncio.timeout(self._deps.max_seconds):
            async for item in self._provider.stream(
                request.model, request.turns, request.max_tokens, request.system
            ):
                if isinstance(item, Usage):
                    self._usage = item
                    continue
                if not self._pieces:
                    metrics.TIME_TO_FIRST_TOKEN.labels(request.model.id).observe(
                        time.perf_counter() - request.started_at
                    )
                self._pieces.append(item)
                tokens.inc()
                self._emit("chunk", chunk_data(item, len(self._pieces)))

    async def _watch(self, generation: asyncio.Task) -> str | None:
        """Wait for the generation, extending the credit hold as it goes; cancel it once
        nobody has been connected for the grace period ("abandoned") or once the hold cannot
        be kept ("hold_lost"). Returns why it was cancelled, None when it was not."""
        beat = 0.0
        next_extension = time.monotonic() + self._deps.hold_extend_seconds
        while not generation.done():
            await asyncio.wait({generation}, timeout=1.0)
            now = time.monotonic()
            if now - beat >= 10:
                beat = now
                self._pending.heartbeat()
            if now >= next_extension and not generation.done():
                next_extension = now + self._deps.hold_extend_seconds
                if not await self._keep_hold():
                    generation.cancel()
                    return "hold_lost"
            if (
                self._detached_at is not None
                and now - self._detached_at >= self._deps.grace_seconds
            ):
                if not await self._redis_safely(self._deps.log.is_attached(self.request.stream_id)):
                    generation.cancel()
                    return "abandoned"
        return None

    async def _keep_hold(self) -> bool:
        """Extend the hold and report the progress so far; False when the answer must stop
        (the hold is gone, or accounting has not answered and it is about to expire)."""
        input_tokens, output_tokens = self._measured()
        try:
            expires_at = await self._deps.accounting.extend(
                self.request.stream_id, input_tokens=input_tokens, output_tokens=output_tokens
            )
        except HoldLost:
            log.warning("hold lost", extra={"streamingSessionId": self.request.stream_id})
            return False
        except ApiError:
            left = self.request.hold_expires_at - time.time()
            log.warning(
                "could not extend a hold",
                extra={"streamingSessionId": self.request.stream_id, "secondsLeft": left},
            )
            return left > HOLD_SAFETY_SECONDS + self._deps.hold_extend_seconds
        self.request.hold_expires_at = expires_at.timestamp()
        return True

    def _measured(self) -> tuple[int, int]:
        """Input and output tokens so far: the provider's figures, or when it reported none
        (cut short) the pieces received (each is at least one token) and an estimate of the
        prompt, but nothing when the model never answered."""
        if self._usage is not None:
            return self._usage.input_tokens, self._usage.output_tokens
        request = self.request
        prompt = (request.system or "") + "".join(turn.text for turn in request.turns)
        return (estimate_tokens(prompt) if self._pieces else 0), len(self._pieces)

    async def _finish(self, outcome: str, error: ProviderError | None) -> None:
        request = self.request
        input_tokens, output_tokens = self._measured()
        if self._first_write is not None:
            try:
                await self._first_write
            except Exception:
                log.exception(
                    "could not store the user's message",
                    extra={"streamingSessionId": request.stream_id},
                )
        if not await self._may_end():
            log.warning(
                "another replica ended this answer as lost",
                extra={"streamingSessionId": request.stream_id},
            )
            self._emit(
                "error",
                {"message": "The answer was lost; please ask again", "code": "answer_lost"},
            )
            await self._written()
            return
        settled = await store_and_settle(
            self._deps,
            EndedAnswer(
                stream_id=request.stream_id,
                session_id=request.session_id,
                user_id=request.user_id,
                model_id=request.model.id,
                text="".join(self._pieces),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                outcome=outcome,
            ),
        )
        credits, message_id = settled.credits, settled.message_id
        if settled.stored:  # charged: counted before the end is sent, so the next request sees it
            await self._deps.key_tokens.add(request.token_limit, input_tokens + output_tokens)
        if not settled.stored:
            self._emit(
                "error",
                {
                    "message": "The answer could not be stored, so it was not charged; "
                    "please ask again",
                    "code": "answer_not_stored",
                },
            )
        elif error is None:
            self._emit(
                "complete",
                {
                    "sessionId": request.session_id,
                    "tokensUsed": input_tokens + output_tokens,
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "creditsUsed": float(credits) if credits is not None else None,
                    "messageId": message_id,
                },
            )
        else:
            self._emit("error", {"message": str(error), "code": error.code})
        log.info(
            "answer finished",
            extra={
                "streamingSessionId": request.stream_id,
                "outcome": outcome,
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
            },
        )
        await self._written()

    @property
    def last_seq(self) -> int:
        """The seq of the latest event sent."""
        return self._seq

    @property
    def ended(self) -> bool:
        """Whether the answer's last event (complete or error) has been sent."""
        return self._ended

    def unconfirmed_events(self) -> list[StreamEvent]:
        """Events sent to this process's listeners that Redis may not have yet: a resuming
        client reads them after the log (taken before reading it, so nothing falls between).
        While Redis is to be given the stream again (it lost it), that is all of them."""
        return self._pending.unwritten()

    def events_so_far(self) -> list[StreamEvent]:
        """Every event sent, the same as sent: chunks rebuilt from the pieces, the rest kept."""
        stream_id, pieces, count = self.request.stream_id, iter(self._pieces), 0
        events: list[StreamEvent] = []
        for seq in range(1, self._seq + 1):
            event = self._kept.get(seq)
            if event is None:
                count += 1
                event = StreamEvent(stream_id, seq, "chunk", chunk_data(next(pieces), count))
            events.append(event)
        return events

    def _emit(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        stream_event = StreamEvent(self.request.stream_id, self._seq, event, data)
        self._ended = self._ended or stream_event.is_terminal
        if event != "chunk":
            self._kept[self._seq] = stream_event
        # Listeners and observers here get it now; Redis (resume log, observers on other
        # replicas) with the next batch.
        self._pending.add(stream_event)
        self._deps.hub.publish(stream_event)
        self._deps.observers.deliver(self.request.session_id, (stream_event,))

    async def _written(self) -> None:
        """Wait for the last batch with this answer's end in it."""
        try:
            async with asyncio.timeout(FINAL_WRITE_TIMEOUT_SECONDS):
                await self._pending.written()
        except TimeoutError:
            log.warning(
                "redis did not take a stream's last events in time",
                extra={"streamingSessionId": self.request.stream_id},
            )

    async def _may_end(self) -> bool:
        """Whether this producer still owns its answer's end: a replica that took it for dead
        (Redis unreachable from here for longer than the replica key lives) has ended it
        already, and storing or settling it again would bill it twice."""
        claimed = await self._redis_safely(
            self._deps.log.claim_end(self.request.stream_id, self._deps.replica_id)
        )
        return claimed is not False  # Redis unreachable: no replica can have recovered it

    async def _redis_safely(self, operation) -> Any:
        """Redis carries observation and resumption; losing it must not break the answer."""
        try:
            return await operation
        except redis.RedisError as exc:
            log.warning("redis unavailable for a stream", extra={"error": repr(exc)})
            return None
