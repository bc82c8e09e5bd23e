"""Starting answers and following them: new streams, resumed streams, whole answers."""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import redis.asyncio as redis

from chat.accounting.client import AccountingClient
from chat.config import ChatSettings, ModelConfig
from chat.limits.request_limit import RequestLimiter
from chat.limits.token_limit import key_token_limit
from chat.providers.base import Turn
from chat.providers.registry import Providers
from chat.sessions import repository
from chat.sessions.schemas import SendMessageResponse
from chat.streaming.events import StreamEvent
from chat.streaming.hub import LocalHub
from chat.streaming.producer import AnswerProducer, Dependencies, StreamRequest
from jwt_contract import Principal
from service_kit import ApiError

log = logging.getLogger(__name__)

# Room for the roles and formatting a provider adds around the prompt.
PROMPT_OVERHEAD_TOKENS = 16
REMOTE_ATTACH_TTL_SECONDS = 3


def history_turns(messages: list[dict], new_message: str) -> list[Turn]:
    """The conversation as providers want it: alternating roles, starting with the user."""
    turns: list[Turn] = []
    for message in messages:
        text = message.get("content") or ""
        if not text.strip():  # providers refuse blank turns
            continue
        if turns and turns[-1].role == message["role"]:
            turns[-1] = Turn(message["role"], f"{turns[-1].text}\n\n{text}")
        else:
            turns.append(Turn(message["role"], text))
    while turns and turns[0].role != "user":
        turns.pop(0)
    if turns and turns[-1].role == "user":
        turns[-1] = Turn("user", f"{turns[-1].text}\n\n{new_message}")
    else:
        turns.append(Turn("user", new_message))
    return turns


@dataclass
class StreamService:
    deps: Dependencies
    providers: Providers
    accounting: AccountingClient
    limiter: RequestLimiter
    settings: ChatSettings
    producers: dict[str, AnswerProducer] = field(default_factory=dict)

    async def start(
        self,
        principal: Principal,
        token: str,
        session: dict,
        message: str,
        model: ModelConfig,
        *,
        history: list[dict] | None = None,
        max_tokens: int | None = None,
        system: str | None = None,
    ) -> AnswerProducer:
        """Count the request against the caller's limit (and check a key's tokens per
        minute), reserve credits, store the user's message and prepare the answer (not yet
        running).

        ``history`` replaces the session's stored messages (the OpenAI API sends its own).
        """
        started_at = time.perf_counter()  # time to first token counts from here
        token_limit = key_token_limit(principal)
        limits = asyncio.gather(
            self.limiter.check(principal.user_id), self.deps.key_tokens.check(token_limit)
        )
        if history is None and session.get("messageCount"):
            # Independent round trips, run together: they are on every answer's first token.
            _, history = await asyncio.gather(
                limits,
                repository.recent_messages(
                    self.deps.db, session["_id"], self.settings.history_messages
                ),
            )
        else:
            # A session's first message has no history to read.
            await limits
            history = history or []
        turns = history_turns(history, message)
        # Characters / 3 overestimates tokens for most text: the hold must cover the prompt.
        prompt_chars = sum(len(t.text) for t in turns) + len(system or "")
        prompt_tokens = math.ceil(prompt_chars / 3) + PROMPT_OVERHEAD_TOKENS
        max_tokens = min(
            max_tokens or self.settings.max_output_tokens, self.settings.max_output_tokens
        )
        reservation = await self.accounting.reserve(
            token,
            session_id=session["_id"],
            model_id=model.id,
            estimated_tokens=prompt_tokens + max_tokens,
        )
        # Stored while the model starts; the producer waits for it before storing the answer.
        asked_at = repository.now()
        first_writes = [
            repository.insert_message(
                self.deps.db,
                {
                    "_id": str(uuid.uuid4()),
                    "sessionId": session["_id"],
                    "userId": principal.user_id,
                    "role": "user",
                    "content": message,
                    "modelId": model.id,
                    "streamingSessionId": reservation.id,
                    "createdAt": asked_at,
                },
            )
        ]
        if "messageCount" in session:  # a stored session (the OpenAI API's are not)
            # The question and its answer (always stored, whatever the ending) counted in one
            # write, now: a request while this answer streams reads the history.
            first_writes.append(
                repository.count_messages(self.deps.db, session["_id"], 2, asked_at)
            )
        request = StreamRequest(
            stream_id=reservation.id,
            session_id=session["_id"],
            user_id=principal.user_id,
            username=principal.username,
            model=model,
            turns=turns,
            max_tokens=max_tokens,
            system=system,
            started_at=started_at,
            hold_expires_at=reservation.expires_at.timestamp(),
            token_limit=token_limit,
        )
        producer = AnswerProducer(request, self.providers.for_model(model), self.deps)
        producer.store_first(asyncio.gather(*first_writes))
        return producer

    def launch(self, producer: AnswerProducer) -> None:
        stream_id = producer.request.stream_id
        self.producers[stream_id] = producer
        producer.task = asyncio.create_task(producer.run(), name=f"answer-{stream_id}")
        producer.task.add_done_callback(lambda _: self.producers.pop(stream_id, None))

    def follow_new(self, producer: AnswerProducer) -> "Following":
        """Start the answer now, before any response is sent, and follow it from its first
        event."""
        queue = self.deps.hub.subscribe(producer.request.stream_id)
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
        self, session: dict, stream_id: str, after_seq: int
    ) -> AsyncIterator[StreamEvent] | None:
        """The events of one of ``session``'s answers after ``after_seq``; None when that
        answer is over and the client has had all of it.

        410 when ``stream_id`` is not an answer of this session (and so of its owner) or is
        no longer kept: the same answer either way, so nobody learns whether another user's
        or another session's stream exists."""
        try:
            if not await self._of_session(stream_id, session):
                raise stream_gone()
            producer = self.producers.get(stream_id)
            if producer is not None:
                if producer.ended and producer.last_seq <= after_seq:
                    return None
            else:
                last = await self.deps.log.last(stream_id)
                if last is None:
                    raise stream_gone()
                if last.is_terminal and last.seq <= after_seq:
                    return None
        except redis.RedisError as exc:
            log.warning("redis unavailable for a resume", extra={"error": repr(exc)})
            raise ApiError(
                503, "resume_unavailable", "Resuming is unavailable right now; try again"
            ) from exc
        return self.follow_resumed(stream_id, after_seq)

    async def _of_session(self, stream_id: str, session: dict) -> bool:
        """Whether ``stream_id`` is an answer asked in ``session`` by its owner: told by the
        producer when it runs here, by Redis while it runs elsewhere, by the stored question
        once it is over."""
        owner = (session["_id"], session["userId"])
        producer = self.producers.get(stream_id)
        if producer is not None:
            return (producer.request.session_id, producer.request.user_id) == owner
        live = await self.deps.log.owner(stream_id)
        if live is not None:
            return live == owner
        return await repository.has_stream(self.deps.db, *owner, stream_id)

    async def follow_resumed(self, stream_id: str, after_seq: int) -> AsyncIterator[StreamEvent]:
        """The events after ``after_seq``: none twice, none missing, then live ones; it ends
        with the answer's last event, also when that was before ``after_seq``, or with
        ``resume_gap`` when the log lacks some of them."""
        producer = self.producers.get(stream_id)
        if producer is None:
            async for event in self._follow_remote(stream_id, after_seq):
                yield event
            return
        queue = self.deps.hub.subscribe(stream_id)
        producer.attach()
        try:
            # Taken with the subscription, before reading Redis: an event is in Redis by the
            # time it leaves this list, and any later one comes through the queue.
            unconfirmed = producer.unconfirmed_events()
            last = after_seq
            for event in [*await self.deps.log.replay(stream_id, after_seq), *unconfirmed]:
                if event.seq > last + 1:
                    yield resume_gap(stream_id, last)
                    return
                if event.seq > last:
                    yield event
                    last = event.seq
                if event.is_terminal:
                    return
            while True:
                event = await queue.get()
                if event.seq > last + 1:
                    yield resume_gap(stream_id, last)
                    return
                if event.seq > last:
                    yield event
                    last = event.seq
                if event.is_terminal:
                    return
        finally:
            self.deps.hub.unsubscribe(stream_id, queue)
            producer.detach()

    async def _follow_remote(self, stream_id: str, after_seq: int) -> AsyncIterator[StreamEvent]:
        """The answer is produced by another replica: follow its log in Redis until its last
        event. Should its producer die, another replica ends it in the log (``recovery``)."""
        last = after_seq
        while True:
            await self.deps.log.mark_attached(stream_id, REMOTE_ATTACH_TTL_SECONDS)
            events = await self.deps.log.tail(stream_id, last, block_ms=1000)
            for event in events:
                if event.seq > last + 1:
                    yield resume_gap(stream_id, last)
                    return
                yield event
                last = event.seq
                if event.is_terminal:
                    return
            if not events:
                newest = await self.deps.log.last(stream_id)
                if newest is None:  # gone before its end reached this client
                    yield resume_gap(stream_id, last)
                    return
                if newest.is_terminal and newest.seq <= last:
                    return

    async def shutdown(self, timeout: float = 10) -> None:
        tasks = [p.task for p in self.producers.values() if p.task]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


def stream_gone() -> ApiError:
    return ApiError(410, "stream_expired", "That answer can no longer be resumed; ask again")


def resume_gap(stream_id: str, last_seq: int) -> StreamEvent:
    """The end of a resumed stream whose log lacks the events after ``last_seq`` (Redis lost
    them): an error, never a silent skip. It carries ``last_seq``, the last event the client
    has, since it is no event of the answer."""
    return StreamEvent(
        stream_id,
        last_seq,
        "error",
        {
            "code": "resume_gap",
            "message": "Part of this answer is no longer kept, so it cannot be resumed from "
            "here; the stored answer is in the session once it ends",
        },
    )


class Following:
    """A connection's hold on an answer it started: iterate it for the events; it lets go of
    the answer when the iteration ends or ``aclose`` is called (for a response whose body
    may never be iterated), whichever comes first."""

    def __init__(self, hub: LocalHub, producer: AnswerProducer, queue: asyncio.Queue) -> None:
        self._hub = hub
        self._producer = producer
        self._queue = queue
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[StreamEvent]:
        try:
            while True:
                event = await self._queue.get()
                yield event
                if event.is_terminal:
                    return
        finally:
            self._close()

    async def aclose(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.unsubscribe(self._producer.request.stream_id, self._queue)
        self._producer.detach()


async def answer_whole(
    streams: StreamService, producer: AnswerProducer, message: str
) -> SendMessageResponse:
    """Run an answer to its end and return it in one piece (POST .../messages)."""
    from chat.sessions.schemas import SendMessageResponse

    pieces: list[str] = []
    async for event in streams.follow_new(producer):
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
