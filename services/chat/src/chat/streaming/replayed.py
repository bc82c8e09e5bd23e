"""An answer served again to a retry of the ``Idempotency-Key`` that started it: from its first
event, without generating or charging anything. While the resume log keeps the answer (live or
over, on any replica) its events are those sent; once the log has let it go, they are rebuilt
from the stored answer: ``model``, its whole text in one ``chunk``, then its end."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from chat.sessions import repository
from chat.sessions.records import MessageRecord, SessionRecord
from chat.streaming.events import StreamEvent
from chat.streaming.production.request import chunk_data
from chat.streaming.resume_log.resume import Resumption, stream_gone
from idempotency import IN_PROGRESS_WAIT
from service_kit import ApiError

POLL_SECONDS = 0.05


async def answer_again(
    resumption: Resumption, db: repository.Database, session: SessionRecord, stream_id: str
) -> AsyncIterator[StreamEvent]:
    """The answer ``stream_id`` of ``session`` from its first event. Its key names it as soon as
    its credits are reserved, a moment before it is produced and logged: until it appears (at
    most ``IN_PROGRESS_WAIT``) it is looked for again. 410 ``stream_expired`` when it is neither
    logged nor stored (it ended before it could be stored)."""
    deadline = asyncio.get_running_loop().time() + IN_PROGRESS_WAIT.total_seconds()
    while True:
        try:
            resumed = await resumption.resume(session, stream_id, 0)
        except ApiError as exc:
            if exc.status != 410:
                raise
            resumed = None
        if resumed is not None:
            return resumed
        stored = await repository.stored_answer_record(db, session.id, stream_id)
        if stored is not None:
            return _events(stored_events(stored, session.id, stream_id))
        if asyncio.get_running_loop().time() >= deadline:
            raise stream_gone()
        await asyncio.sleep(POLL_SECONDS)


async def _events(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


def stored_events(stored: MessageRecord, session_id: str, stream_id: str) -> list[StreamEvent]:
    events = [
        StreamEvent(
            stream_id, 1, "model", {"modelId": stored.model_id, "streamingSessionId": stream_id}
        )
    ]
    if stored.content:
        events.append(StreamEvent(stream_id, 2, "chunk", chunk_data(stored.content, 1)))
    name, data = _end(stored, session_id)
    events.append(StreamEvent(stream_id, len(events) + 1, name, data))
    return events


def _end(stored: MessageRecord, session_id: str) -> tuple[str, dict[str, Any]]:
    if stored.status != "complete":
        return "error", {
            "message": "This answer did not complete; ask again with a new key",
            "code": stored.status or "answer_lost",
        }
    input_tokens = stored.tokens.input if stored.tokens else 0
    output_tokens = stored.tokens.output if stored.tokens else 0
    return "complete", {
        "sessionId": session_id,
        "tokensUsed": input_tokens + output_tokens,
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "creditsUsed": stored.credits_used,
        "messageId": stored.id,
    }
