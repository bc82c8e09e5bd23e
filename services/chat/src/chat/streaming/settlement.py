"""An answer's end, whoever ends it: stored with its usage record, then settled.

The producer that generated the answer ends it; when that producer died, another replica ends
it from what the resume log kept (``recovery``). Either way the answer is stored with the
usage record it owes accounting in one document (the relay publishes it), and the hold is
settled for the tokens measured.

Nothing is charged that the user cannot read. Storing is tried again for
``answer_store_seconds`` in all (a few seconds; with MongoDB away each try fails after the
client's server selection timeout, about a second), with the same ``_id`` each time, so a
duplicate id means an earlier try landed although its acknowledgement was lost. If the answer
still cannot be stored, the hold is released uncharged (settled for no tokens) and the caller
ends the stream with ``error`` ``answer_not_stored``: the usage record lives in the answer's
document, so there is no charge without the answer. Two edges remain: a try that landed after
the store gave up leaves a readable answer that is not charged (its usage event finds the
reservation settled and changes nothing), and when accounting cannot be reached to release
the hold either, the hold expires and accounting's sweeper charges the progress last reported.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymongo
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from chat.sessions import repository
from chat.streaming.resources import Dependencies
from event_bus import new_event

log = logging.getLogger(__name__)

# Pauses between tries to store an answer (the last one repeats until the time is up).
STORE_PAUSES_SECONDS = (0.2, 0.5, 1.0)
CREDITS_NOTE_SECONDS = 1.0


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
    stored: bool = True  # False: not kept, so released uncharged (answer_not_stored)


def _transient(exc: PyMongoError) -> bool:
    return (
        isinstance(exc, ConnectionFailure)
        or exc.timeout
        or exc.has_error_label("RetryableWriteError")
    )


async def store_answer(db: AsyncDatabase, document: dict[str, Any], seconds: float) -> bool:
    """Insert ``document``, trying again for ``seconds`` in all while MongoDB is unreachable;
    whether it is stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    tries = 0
    while True:
        try:
            with pymongo.timeout(max(deadline - loop.time(), 0.001)):
                await repository.insert_message(db, document)
            return True
        except DuplicateKeyError:
            return True  # an earlier try landed
        except PyMongoError as exc:
            pause = STORE_PAUSES_SECONDS[min(tries, len(STORE_PAUSES_SECONDS) - 1)]
            tries += 1
            if not _transient(exc) or loop.time() + pause >= deadline:
                log.error(
                    "could not store an answer",
                    extra={
                        "streamingSessionId": document.get("streamingSessionId"),
                        "tries": tries,
                    },
                    exc_info=exc,
                )
                return False
            log.warning(
                "storing an answer failed; trying again",
                extra={
                    "streamingSessionId": document.get("streamingSessionId"),
                    "error": repr(exc),
                },
            )
            await asyncio.sleep(pause)


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
    stored = await store_answer(
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
        deps.answer_store_seconds,
    )
    if not stored:
        released = await deps.accounting.finalize(
            reservation_id=answer.stream_id, input_tokens=0, output_tokens=0, success=False
        )
        if released is None:
            log.error(
                "an answer that could not be stored could not be released either",
                extra={"streamingSessionId": answer.stream_id},
            )
        return Settled(message_id, released, stored=False)
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
        try:
            with pymongo.timeout(CREDITS_NOTE_SECONDS):
                await deps.db.messages.update_one(
                    {"_id": message_id}, {"$set": {"creditsUsed": float(credits)}}
                )
        except PyMongoError as exc:  # a note on the stored answer; the charge stands
            log.warning(
                "could not note an answer's credits",
                extra={"streamingSessionId": answer.stream_id, "error": repr(exc)},
            )
    return Settled(message_id, credits)
