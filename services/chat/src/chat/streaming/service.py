"""Starting answers and following them: what the routes of chat (streams, messages, the
OpenAI API) call. An answer is produced in ``production``, billed in ``billing``, logged for
resume in ``resume_log``, ended elsewhere if its replica dies in ``recovery``."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from chat.accounting.client import AccountingClient
from chat.byok.routing import ByokRouting
from chat.config import ChatSettings, ModelConfig
from chat.limits.request_limit import RequestLimiter
from chat.limits.token_limit import key_token_limit
from chat.model_health.monitor import ModelHealthMonitor
from chat.providers.base import Turn
from chat.providers.registry import Providers
from chat.sessions import repository
from chat.sessions.records import MessageRecord, SessionRecord
from chat.sessions.schemas import SendMessageResponse
from chat.streaming.billing.metering import hold_tokens
from chat.streaming.events import StreamEvent
from chat.streaming.production.listeners import Following
from chat.streaming.production.producer import AnswerProducer
from chat.streaming.production.request import (
    Conversation,
    StreamRequest,
    conversation_of,
    history_turns,
    turn_of,
)
from chat.streaming.replayed import answer_again
from chat.streaming.resources import Dependencies
from chat.streaming.resume_log.resume import Resumption
from jwt_contract import Principal
from service_kit import ApiError


@dataclass
class StreamService:
    deps: Dependencies
    providers: Providers
    accounting: AccountingClient
    limiter: RequestLimiter
    settings: ChatSettings
    health: ModelHealthMonitor
    producers: dict[str, AnswerProducer] = field(default_factory=dict)
    byok: ByokRouting | None = None  # None: every answer uses the platform's providers

    def __post_init__(self) -> None:
        self._resumption = Resumption(self.deps, self.producers)

    async def start(
        self,
        principal: Principal,
        token: str,
        session: SessionRecord | Conversation,
        message: str,
        model: ModelConfig,
        *,
        history: Sequence[Mapping[str, str]] | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
    ) -> AnswerProducer:
        """Refuse a model the probe found unavailable (503 ``model_unavailable``, before
        anything is counted or reserved), count the request against the caller's limit (and
        check a key's tokens per minute), reserve credits, store the user's message and
        prepare the answer (not yet running).

        ``history`` (``{"role", "content"}`` messages) replaces the session's stored ones
        (the OpenAI API sends its own).
        """
        started_at = time.perf_counter()  # time to first token counts from here
        self.health.require_available(model)
        asked = conversation_of(session)
        turns = history_turns(await self._earlier(principal, asked, history), message)
        max_tokens = min(
            max_tokens or self.settings.max_output_tokens, self.settings.max_output_tokens
        )
        own = None if self.byok is None else await self.byok.provider_for(principal, model)
        reservation = await self.accounting.reserve(
            token,
            session_id=asked.session_id,
            model_id=model.id,
            estimated_tokens=hold_tokens(turns, system, max_tokens),
            byok=own is not None,
        )
        request = StreamRequest(
            streaming_session_id=reservation.id,
            session_id=asked.session_id,
            user_id=principal.user_id,
            username=principal.username,
            model=model,
            turns=turns,
            max_tokens=max_tokens,
            system=system,
            started_at=started_at,
            hold_expires_at=reservation.expires_at.timestamp(),
            token_limit=key_token_limit(principal),
            byok=own is not None,
        )
        provider = own or self.providers.for_model(model)
        producer = AnswerProducer(request, provider, self.deps)
        # Stored while the model starts; the producer waits for it before storing the answer.
        producer.store_first(self._store_question(asked, request, message))
        return producer

    async def _earlier(
        self,
        principal: Principal,
        asked: Conversation,
        history: Sequence[Mapping[str, str]] | None,
    ) -> list[Turn]:
        """The turns before the question, once the caller's limits are checked."""
        limits = asyncio.gather(
            self.limiter.check(principal.user_id),
            self.deps.key_tokens.check(key_token_limit(principal)),
        )
        if history is None and asked.message_count:
            # Independent round trips, run together: they are on every answer's first token.
            _, messages = await asyncio.gather(
                limits,
                repository.recent_message_records(
                    self.deps.db, asked.session_id, self.settings.history_messages
                ),
            )
            return [Turn(m.role, m.content) for m in messages]
        await limits  # a session's first message has no history to read
        return [turn_of(m) for m in history or ()]

    async def _store_question(
        self, asked: Conversation, request: StreamRequest, message: str
    ) -> None:
        asked_at = repository.now()
        question = MessageRecord(
            id=str(uuid.uuid4()),
            session_id=asked.session_id,
            user_id=request.user_id,
            role="user",
            content=message,
            model_id=request.model.id,
            streaming_session_id=request.streaming_session_id,
            created_at=asked_at,
        )
        writes = [repository.insert_message_record(self.deps.db, question)]
        if asked.stored:  # the OpenAI API's sessions are not
            # The question and its answer (always stored, whatever the ending) counted in one
            # write, now: a request while this answer streams reads the history.
            writes.append(repository.count_messages(self.deps.db, asked.session_id, 2, asked_at))
        await asyncio.gather(*writes)

    def launch(self, producer: AnswerProducer) -> None:
        streaming_session_id = producer.request.streaming_session_id
        self.producers[streaming_session_id] = producer
        producer.task = asyncio.create_task(producer.run(), name=f"answer-{streaming_session_id}")
        producer.task.add_done_callback(lambda _: self.producers.pop(streaming_session_id, None))

    def follow_new(self, producer: AnswerProducer) -> Following:
        """Start the answer now, before any response is sent, and follow it from its first
        event."""
        queue = self.deps.hub.subscribe(producer.request.streaming_session_id)
        producer.attach()
        self.launch(producer)
        return Following(self.deps.hub, producer, queue)

    def local_events(self, session_id: str) -> list[StreamEvent]:
        """Events of the session's answers served here that Redis may not have yet; taken with
        an observer's ``open``, they cover what the log read after it could lack."""
        return [
            event
            for producer in self.producers.values()
            if producer.request.session_id == session_id
            for event in producer.unconfirmed_events()
        ]

    async def resume(
        self, session: SessionRecord, streaming_session_id: str, after_seq: int
    ) -> AsyncIterator[StreamEvent] | None:
        """The events of one of ``session``'s answers after ``after_seq`` (``Resumption``)."""
        return await self._resumption.resume(session, streaming_session_id, after_seq)

    async def again(
        self, session: SessionRecord, streaming_session_id: str
    ) -> AsyncIterator[StreamEvent]:
        """One of ``session``'s answers from its first event, for a retry of the key that
        started it (``replayed``): nothing is generated or charged again."""
        return await answer_again(self._resumption, self.deps.db, session, streaming_session_id)

    async def shutdown(self, timeout: float = 10) -> None:
        tasks = [p.task for p in self.producers.values() if p.task]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


async def answer_whole(
    streams: StreamService, producer: AnswerProducer, message: str
) -> SendMessageResponse:
    """Run an answer to its end and return it in one piece (POST .../messages)."""
    return await whole_answer(streams.follow_new(producer), message)


async def whole_answer(events: AsyncIterable[StreamEvent], message: str) -> SendMessageResponse:
    """An answer's events, followed to its end, in one piece."""
    pieces: list[str] = []
    async for event in events:
        if event.event == "chunk":
            pieces.append(event.data["content"])
        elif event.event == "complete":
            return SendMessageResponse(
                message=message,
                response="".join(pieces),
                tokens_used=event.data["tokensUsed"],
                credits_used=event.data["creditsUsed"],
                message_id=event.data["messageId"],
            )
        elif event.event == "error":
            raise ApiError(502, event.data["code"], event.data["message"])
    raise ApiError(502, "provider_error", "The answer ended without completing")
