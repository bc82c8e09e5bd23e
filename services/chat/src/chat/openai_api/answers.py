"""A completion in OpenAI's shapes, rendered from its answer's events: whole (JSON) or as chunks
(SSE). An answer served again to a retry of its ``Idempotency-Key`` (``streaming.replayed``)
is rendered the same way, under the same id and ``created``."""

import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import JSONResponse

from chat.openai_api.schemas import chunk, completion, usage_chunk, usage_of
from chat.sessions.records import SessionRecord
from chat.streaming.events import StreamEvent
from idempotency import StoredResponse
from service_kit import ApiError


@dataclass(frozen=True)
class Completion:
    """What names a completion: ``chatcmpl-`` and its answer's id, when it was asked, the
    model answering, and whether a stream ends with a usage chunk."""

    id: str
    created: int
    model_id: str
    include_usage: bool = False

    @classmethod
    def of(
        cls, streaming_session_id: str, created: float, model_id: str, include_usage: bool
    ) -> "Completion":
        return cls(f"chatcmpl-{streaming_session_id}", int(created), model_id, include_usage)


def api_session(session_id: str, user_id: str, model_id: str, asked_at: datetime) -> SessionRecord:
    """The OpenAI API's conversation as an answer's owner is checked (its id and caller), for
    following an answer it started again: such conversations are never stored as sessions."""
    return SessionRecord.model_validate(
        {
            "_id": session_id,
            "userId": user_id,
            "title": "",
            "modelId": model_id,
            "createdAt": asked_at,
        }
    )


async def whole(events: AsyncIterable[StreamEvent], named: Completion) -> StoredResponse:
    """The answer followed to its end, as the JSON body a retry with its key answers again;
    a failed answer is 502 with its code."""
    pieces: list[str] = []
    async for event in events:
        if event.event == "chunk":
            pieces.append(event.data["content"])
        elif event.event == "error":
            raise ApiError(502, event.data["code"], event.data["message"])
        elif event.event == "complete":
            text, usage = "".join(pieces), usage_of(event.data)
            body = completion(named.id, named.created, named.model_id, text, "stop", usage)
            return StoredResponse(200, bytes(JSONResponse(body).body), "application/json")
    raise ApiError(502, "provider_error", "The answer ended without completing")


async def chunks(events: AsyncIterable[StreamEvent], named: Completion) -> AsyncIterator[str]:
    """The answer as ``chat.completion.chunk`` payloads (the SSE ``data``), then ``[DONE]``."""
    yield json.dumps(
        chunk(named.id, named.created, named.model_id, {"role": "assistant", "content": ""})
    )
    async for event in events:
        if event.event == "chunk":
            delta = {"content": event.data["content"]}
            yield json.dumps(chunk(named.id, named.created, named.model_id, delta))
        elif event.event == "error":
            yield json.dumps(
                {"error": {"message": event.data["message"], "code": event.data["code"]}}
            )
            return
        elif event.event == "complete":
            yield json.dumps(chunk(named.id, named.created, named.model_id, {}, "stop"))
            if named.include_usage:
                usage = usage_of(event.data)
                yield json.dumps(usage_chunk(named.id, named.created, named.model_id, usage))
            yield "[DONE]"
            return
