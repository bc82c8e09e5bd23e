"""An answer's end, whoever ends it: stored with its usage record, then settled.

The producer that generated the answer ends it; when that producer died, another replica ends
it from what the resume log kept (``recovery``). Either way the answer is stored with the
usage record it owes accounting in one document (the relay publishes it), and the hold is
settled for the tokens measured.
"""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from chat.sessions import repository
from chat.streaming.resources import Dependencies
from event_bus import new_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndedAnswer:
    stream_id: str  # the reservation id
    session_id: str
    user_id: str
    model_id: str
    text: str
    input_tokens: int
    output_tokens: int
    outcome: str  # complete, interrupted, failed, lost


@dataclass(frozen=True)
class Settled:
    message_id: str
    credits: Decimal | None  # None when accounting did not say


async def store_and_settle(deps: Dependencies, answer: EndedAnswer) -> Settled:
    message_id = str(uuid.uuid4())
    usage_event = new_event(
        "usage.recorded",
        {
            "userId": answer.user_id,
            "sessionId": answer.session_id,
            "streamingSessionId": answer.stream_id,
            "modelId": answer.model_id,
            "inputTokens": answer.input_tokens,
            "outputTokens": answer.output_tokens,
            "service": "chat",
            "operation": "stream",
        },
    )
    try:
        await repository.insert_message(
            deps.db,
            {
                "_id": message_id,
                "sessionId": answer.session_id,
                "userId": answer.user_id,
                "role": "assistant",
                "content": answer.text,
                "modelId": answer.model_id,
                "status": answer.outcome,
                "streamingSessionId": answer.stream_id,
                "tokens": {"input": answer.input_tokens, "output": answer.output_tokens},
                "createdAt": repository.now(),
                "usage": {"event": usage_event},
                "usagePending": True,
            },
        )
    except Exception:
        # The reservation expires by itself and its credits come back: nothing is charged
        # for an answer that could not be stored.
        log.exception("could not store an answer", extra={"streamingSessionId": answer.stream_id})
    credits = await deps.accounting.finalize(
        reservation_id=answer.stream_id,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        success=answer.outcome == "complete",
    )
    # After the settlement, so the event usually finds it done and costs accounting no
    # transaction; should chat stop before this, the relay's poll publishes it anyway.
    deps.relay.wake()
    if credits is not None:
        await deps.db.messages.update_one(
            {"_id": message_id}, {"$set": {"creditsUsed": float(credits)}}
        )
    return Settled(message_id, credits)
