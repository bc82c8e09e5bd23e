"""One answer being generated: the model call, the credit hold kept meanwhile, the end.

The producer runs as its own task, apart from the HTTP connection that asked for it, so a
client that drops and reconnects (Last-Event-ID) finds the answer still coming. When nobody
has been connected for ``grace`` seconds, the model call is cancelled and what was generated
is billed. Whatever the ending (complete, client gone, model failure, shutdown), the answer
is stored with its usage record in one document and accounting is told; an answer that
cannot be stored ends with ``error`` ``answer_not_stored`` and is not charged (``billing``).
Its events go out through ``answer_events``.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import redis.asyncio as redis

from chat import metrics
from chat.providers.base import ModelProvider, ProviderError, Usage
from chat.streaming.billing.holds import HeldCredits
from chat.streaming.billing.metering import measured_tokens, prompt_text
from chat.streaming.billing.settlement import EndedAnswer, Settled, store_and_settle
from chat.streaming.events import StreamEvent
from chat.streaming.production.answer_events import AnswerEvents
from chat.streaming.production.request import StreamRequest, listing
from chat.streaming.resources import Dependencies

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10  # how often a live stream's listing is refreshed in Redis
TOKENS_COUNTED_EVERY = 20  # pieces streamed between two additions to the tokens counter
T = TypeVar("T")


class AnswerProducer:
    def __init__(self, request: StreamRequest, provider: ModelProvider, deps: Dependencies) -> None:
        self.request = request
        self._provider = provider
        self._deps = deps
        self._events = AnswerEvents(request, deps)
        self._usage: Usage | None = None
        self._attached = 0
        self._detached_at: float | None = None
        self.task: asyncio.Task[None] | None = None
        self._first_write: asyncio.Future[Any] | None = None

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
        metrics.ACTIVE_STREAMS.inc()
        outcome, error = "failed", None
        generation: asyncio.Task[None] | None = None
        try:
            # The model call goes first: its worker starts while the events below are sent.
            # `model` still comes before any chunk, which only arrives in a later turn.
            generation = asyncio.create_task(self._generate())
            self._events.begin(listing(self.request, self._deps.replica_id))
            self._events.emit(
                "model",
                {
                    "modelId": self.request.model.id,
                    "streamingSessionId": self.request.streaming_session_id,
                },
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
                "finishing an answer failed",
                extra={"streamingSessionId": self.request.streaming_session_id},
            )
            if not self._events.ended:  # whoever listens is not left waiting for an end
                self._events.emit(
                    "error", {"message": "The answer could not be ended", "code": "internal_error"}
                )
                await self._events.written()
        finally:
            self._events.close()

    async def _outcome(
        self, generation: asyncio.Task[None], cancelled_for: str | None
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
        counted = 0  # of the pieces, those already added to the counter
        try:
            async with asyncio.timeout(self._deps.max_seconds):
                async for item in self._provider.stream(
                    request.model, request.turns, request.max_tokens, request.system
                ):
                    if isinstance(item, Usage):
                        self._usage = item
                        continue
                    if not self._events.pieces:
                        metrics.TIME_TO_FIRST_TOKEN.labels(request.model.id).observe(
                            time.perf_counter() - request.started_at
                        )
                    self._events.chunk(item)
                    # Counted in steps: with several workers each increment is a locked
                    # write to a shared file, a few percent of a token's cost.
                    if len(self._events.pieces) - counted >= TOKENS_COUNTED_EVERY:
                        tokens.inc(len(self._events.pieces) - counted)
                        counted = len(self._events.pieces)
        finally:
            tokens.inc(len(self._events.pieces) - counted)

    async def _watch(self, generation: asyncio.Task[None]) -> str | None:
        """Wait for the generation, keeping the credit hold as it goes; cancel it once nobody
        has been connected for the grace period ("abandoned") or once the hold cannot be kept
        ("hold_lost"). Returns why it was cancelled, None when it was not."""
        request = self.request
        hold = HeldCredits(
            self._deps.accounting,
            request.streaming_session_id,
            expires_at=request.hold_expires_at,
            every=self._deps.hold_extend_seconds,
        )
        beat = 0.0
        while not generation.done():
            await asyncio.wait({generation}, timeout=1.0)
            now = time.monotonic()
            if now - beat >= HEARTBEAT_SECONDS:
                beat = now
                self._events.heartbeat()
            if hold.due(now) and not generation.done():
                kept = await hold.extend(*self._measured())
                request.hold_expires_at = hold.expires_at
                if not kept:
                    generation.cancel()
                    return "hold_lost"
            if (
                self._detached_at is not None
                and now - self._detached_at >= self._deps.grace_seconds
            ):
                if not await self._redis_safely(
                    self._deps.log.is_attached(request.streaming_session_id)
                ):
                    generation.cancel()
                    return "abandoned"
        return None

    def _measured(self) -> tuple[int, int]:
        prompt = prompt_text(self.request.turns, self.request.system)
        return measured_tokens(self._usage, len(self._events.pieces), prompt)

    async def _finish(self, outcome: str, error: ProviderError | None) -> None:
        request = self.request
        input_tokens, output_tokens = self._measured()
        if self._first_write is not None:
            try:
                await self._first_write
            except Exception:
                log.exception(
                    "could not store the user's message",
                    extra={"streamingSessionId": request.streaming_session_id},
                )
        if not await self._may_end():
            log.warning(
                "another replica ended this answer as lost",
                extra={"streamingSessionId": request.streaming_session_id},
            )
            self._events.emit(
                "error",
                {"message": "The answer was lost; please ask again", "code": "answer_lost"},
            )
            await self._events.written()
            return
        settled = await store_and_settle(
            self._deps,
            EndedAnswer(
                streaming_session_id=request.streaming_session_id,
                session_id=request.session_id,
                user_id=request.user_id,
                model_id=request.model.id,
                text="".join(self._events.pieces),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                outcome=outcome,
                byok=request.byok,
            ),
        )
        if settled.stored:  # charged: counted before the end is sent, so the next request sees it
            await self._deps.key_tokens.add(request.token_limit, input_tokens + output_tokens)
        self._events.emit(*self._end(settled, error, input_tokens, output_tokens))
        log.info(
            "answer finished",
            extra={
                "streamingSessionId": request.streaming_session_id,
                "outcome": outcome,
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
            },
        )
        await self._events.written()

    def _end(
        self, settled: Settled, error: ProviderError | None, input_tokens: int, output_tokens: int
    ) -> tuple[str, dict[str, Any]]:
        """The answer's last event, once it is stored and settled (or could not be stored)."""
        if not settled.stored:
            return "error", {
                "message": "The answer could not be stored, so it was not charged; "
                "please ask again",
                "code": "answer_not_stored",
            }
        if error is not None:
            return "error", {"message": str(error), "code": error.code}
        return "complete", {
            "sessionId": self.request.session_id,
            "tokensUsed": input_tokens + output_tokens,
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "creditsUsed": float(settled.credits) if settled.credits is not None else None,
            "messageId": settled.message_id,
        }

    @property
    def last_seq(self) -> int:
        """The seq of the latest event sent."""
        return self._events.last_seq

    @property
    def ended(self) -> bool:
        """Whether the answer's last event (complete or error) has been sent."""
        return self._events.ended

    def unconfirmed_events(self) -> list[StreamEvent]:
        """Events sent here that Redis may not have yet (``AnswerEvents.unconfirmed``)."""
        return self._events.unconfirmed()

    def events_so_far(self) -> list[StreamEvent]:
        return self._events.events_so_far()

    async def _may_end(self) -> bool:
        """Whether this producer still owns its answer's end: a replica that took it for dead
        (Redis unreachable from here for longer than the replica key lives) has ended it
        already, and storing or settling it again would bill it twice."""
        claimed = await self._redis_safely(
            self._deps.log.claim_end(self.request.streaming_session_id, self._deps.replica_id)
        )
        return claimed is not False  # Redis unreachable: no replica can have recovered it

    async def _redis_safely(self, operation: Awaitable[T]) -> T | None:
        """Redis carries observation and resumption; losing it must not break the answer."""
        try:
            return await operation
        except redis.RedisError as exc:
            log.warning("redis unavailable for a stream", extra={"error": repr(exc)})
            return None
