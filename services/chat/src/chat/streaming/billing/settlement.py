"""An answer's end, whoever ends it: stored with its usage record, then settled.

The producer that generated the answer ends it; when that producer died, another replica ends
it from what the resume log kept (``chat.streaming.recovery``). Either way the answer is
stored with the usage record it owes accounting in one document (the relay publishes it), and
the hold is settled for the tokens measured.

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

import pymongo
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from bus_events import UsageRecorded, event_of
from chat.sessions import repository
from chat.sessions.records import MessageRecord, StoredUsage, TokenCounts
from chat.streaming.resources import Dependencies

log = logging.getLogger(__name__)

# Pauses between tries to store an answer (the last one repeats until the time is up).
STORE_PAUSES_SECONDS = (0.2, 0.5, 1.0)
CREDITS_NOTE_SECONDS = 1.0


@dataclass(frozen=True)
class EndedAnswer:
    streaming_session_id: str  # the reservation id
    session_id: str
    user_id: str
    model_id: str
    text: str
    input_tokens: int
    output_tokens: int
    outcome: str  # complete, interrupted, failed, lost
    byok: bool = False  # asked with the caller's own provider credential


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


async def store_answer(db: repository.Database, answer: MessageRecord, seconds: float) -> bool:
    """Insert ``answer``, trying again for ``seconds`` in all while MongoDB is unreachable;
    whether it is stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    tries = 0
    while True:
        try:
            with pymongo.timeout(max(deadline - loop.time(), 0.001)):
                await repository.insert_message_record(db, answer)
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
                        "streamingSessionId": answer.streaming_session_id,
                        "tries": tries,
                    },
                    exc_info=exc,
                )
                return False
            log.warning(
                "storing an answer failed; trying again",
                extra={
                    "streamingSessionId": answer.streaming_session_id,
                    "error": repr(exc),
                },
            )
            await asyncio.sleep(pause)


async def store_and_settle(deps: Dependencies, answer: EndedAnswer) -> Settled:
    message_id = str(uuid.uuid4())
    usage_event = event_of(
        UsageRecorded(
            user_id=answer.user_id,
            session_id=answer.session_id,
            streaming_session_id=uuid.UUID(answer.streaming_session_id),
            model_id=answer.model_id,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            service="chat",
            operation="stream",
            byok=answer.byok,
        )
    )
    stored = await store_answer(
        deps.db,
        MessageRecord(
            id=message_id,
            session_id=answer.session_id,
            user_id=answer.user_id,
            role="assistant",
            content=answer.text,
            model_id=answer.model_id,
            status=answer.outcome,
            streaming_session_id=answer.streaming_session_id,
            tokens=TokenCounts(input=answer.input_tokens, output=answer.output_tokens),
            created_at=repository.now(),
            usage=StoredUsage(event=usage_event),
            usage_pending=True,
        ),
        deps.answer_store_seconds,
    )
    if not stored:
        released = await deps.accounting.finalize(
            streaming_session_id=answer.streaming_session_id,
            input_tokens=0,
            output_tokens=0,
            success=False,
        )
        if released is None:
            log.error(
                "an answer that could not be stored could not be released either",
                extra={"streamingSessionId": answer.streaming_session_id},
            )
        return Settled(message_id, released, stored=False)
    credits = await deps.accounting.finalize(
        streaming_session_id=answer.streaming_session_id,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        success=answer.outcome == "complete",
    )
    # The usage record is not pushed now: the relay's next poll (within a second) takes it
    # with whatever else ended meanwhile, one claim, publish and mark for them all. The
    # settlement above already charged it; the event is for when that call failed.
    if credits is not None:
        try:
            with pymongo.timeout(CREDITS_NOTE_SECONDS):
                await repository.note_credits_used(deps.db, message_id, float(credits))
        except PyMongoError as exc:  # a note on the stored answer; the charge stands
            log.warning(
                "could not note an answer's credits",
                extra={"streamingSessionId": answer.streaming_session_id, "error": repr(exc)},
            )
    return Settled(message_id, credits)
