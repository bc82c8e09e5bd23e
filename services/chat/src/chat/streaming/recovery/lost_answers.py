"""Answers whose producer died: ended by another replica from what the resume log kept.

Every replica scans the live streams every ``interval`` seconds (``chat:active`` and the
streams' info hashes, two round trips, then one ``MGET`` of the replicas they name). A stream
whose replica key has been missing on two scans in a row (so over a refresh of that key: a
Redis restart or a slow refresh is not a death) and whose log has no end is claimed with
``SET NX`` on ``chat:recovery:{stream}`` (expiring, so a recoverer that dies too lets another
finish); the claimant checks the log and the replica again, then ends the answer as its
producer would have: stored with its usage record and the hold settled for what was streamed
(``billing.settlement``), then ``error`` ``answer_lost`` appended to the log and sent to observers,
which also takes it off the live listing. A stored answer for the stream (its producer, or an
earlier recoverer, died after storing it) is never stored or settled again: only its end is
written.
"""

import asyncio
import logging
import time
from typing import Any

import redis.asyncio as redis

from background_loops import BackgroundLoop, Failure
from chat import metrics
from chat.sessions import repository
from chat.sessions.records import MessageRecord
from chat.streaming.billing.settlement import EndedAnswer, store_and_settle
from chat.streaming.events import StreamEvent
from chat.streaming.resources import Dependencies
from chat.streaming.resume_log.keys import CLAIM_SECONDS, STALE_AFTER_SECONDS, claim_key
from chat.streaming.resume_log.stream_log import ListedStream

log = logging.getLogger(__name__)

PARALLEL_RECOVERIES = 8
END_WRITE_TIMEOUT_SECONDS = 10
ANSWER_LOST = "answer_lost"
NEEDED = frozenset({"sessionId", "userId", "modelId"})  # of a stream's info, to end it
LOST_MESSAGE = "The server generating this answer stopped; what was streamed is kept and billed"
UNKEPT_MESSAGE = (
    "The server generating this answer stopped and what it said could not be kept; nothing was "
    "charged"
)


class Recovery:
    def __init__(self, deps: Dependencies, client: redis.Redis, *, interval: float) -> None:
        self._deps = deps
        self._redis = client
        self._missing: set[str] = set()  # replicas without a key at the last scan
        self._slots = asyncio.Semaphore(PARALLEL_RECOVERIES)
        self._loop = BackgroundLoop(
            "answer-recovery", self.scan, interval=interval, on_failure=_scan_failed
        )

    def start(self) -> None:
        """Scan now and every ``interval`` seconds."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop scanning. A recovery cut short is finished by another replica once its claim
        expires (a stored answer is not stored again)."""
        await self._loop.stop()

    async def scan(self) -> list[str]:
        """One look for lost answers; the ids of those this replica ended."""
        streams = await self._deps.log.listed()
        await self._deps.log.unlist(s.streaming_session_id for s in streams if _expired(s))
        replicas = {s.replica for s in streams if s.replica and s.replica != self._me}
        missing = replicas - await self._deps.log.alive(replicas)
        dead, self._missing = missing & self._missing, missing
        lost = [s for s in streams if s.replica in dead and NEEDED <= s.info.keys()]
        ended = await asyncio.gather(*(self._guarded(s) for s in lost))
        return [s.streaming_session_id for s, done in zip(lost, ended, strict=True) if done]

    @property
    def _me(self) -> str:
        return self._deps.replica_id

    async def _guarded(self, stream: ListedStream) -> bool:
        async with self._slots:
            try:
                return await self.recover(stream)
            except Exception:
                # The claim expires and a later scan (here or elsewhere) tries again.
                log.exception(
                    "could not end a lost answer",
                    extra={"streamingSessionId": stream.streaming_session_id},
                )
                return False

    async def recover(self, stream: ListedStream) -> bool:
        """End one lost answer, unless another replica does or its producer turns out alive;
        whether this call ended it."""
        streaming_session_id, info = stream.streaming_session_id, stream.info
        claimed = await self._redis.set(
            claim_key(streaming_session_id), self._me, nx=True, ex=CLAIM_SECONDS
        )
        if not claimed:
            return False
        if stream.replica and await self._deps.log.alive({stream.replica}):
            await self._redis.delete(claim_key(streaming_session_id))
            return False
        events = await self._deps.log.replay(streaming_session_id)
        if events and events[-1].is_terminal:
            # Ended meanwhile (by its producer, or by a recoverer whose claim expired).
            await self._deps.log.unlist([streaming_session_id])
            return False
        session_id = info["sessionId"]
        stored = await repository.stored_answer_record(
            self._deps.db, session_id, streaming_session_id
        )
        if stored is None:
            name, data = await self._settle(streaming_session_id, info, events)
        else:
            name, data = _stored_end(stored, session_id)
        end = StreamEvent(streaming_session_id, (events[-1].seq if events else 0) + 1, name, data)
        pending = self._deps.batcher.open(streaming_session_id, session_id)
        pending.add(end)  # its script takes the stream off the live listing
        self._deps.observers.deliver(session_id, (end,))
        try:
            async with asyncio.timeout(END_WRITE_TIMEOUT_SECONDS):
                await pending.flushed()
        except TimeoutError:
            log.warning(
                "redis did not take a lost answer's end in time",
                extra={"streamingSessionId": streaming_session_id},
            )
        return True

    async def _settle(
        self, streaming_session_id: str, info: dict[str, str], events: list[StreamEvent]
    ) -> tuple[str, dict[str, Any]]:
        chunks = [event for event in events if event.event == "chunk"]
        # Each chunk counts the pieces so far: the last one also counts any the log lost.
        output_tokens = max(len(chunks), int(chunks[-1].data.get("tokenCount", 0))) if chunks else 0
        input_tokens = int(info.get("promptTokens", 0)) if output_tokens else 0
        settled = await store_and_settle(
            self._deps,
            EndedAnswer(
                streaming_session_id=streaming_session_id,
                session_id=info["sessionId"],
                user_id=info["userId"],
                model_id=info["modelId"],
                text="".join(str(chunk.data.get("content", "")) for chunk in chunks),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                outcome="lost",
                byok=info.get("byok") == "1",
            ),
        )
        metrics.STREAMS_FINISHED.labels("lost").inc()
        log.warning(
            "ended a lost answer",
            extra={
                "streamingSessionId": streaming_session_id,
                "replica": info.get("replica"),
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "stored": settled.stored,
            },
        )
        message = LOST_MESSAGE if settled.stored else UNKEPT_MESSAGE
        return "error", {"message": message, "code": ANSWER_LOST}


def _stored_end(stored: MessageRecord, session_id: str) -> tuple[str, dict[str, Any]]:
    """The end of an answer stored by a process that died before writing its end."""
    if stored.status != "complete":
        return "error", {"message": LOST_MESSAGE, "code": ANSWER_LOST}
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


def _scan_failed(failure: Failure) -> None:
    # Redis away, most likely: the next scan tries again.
    log.warning("looking for lost answers failed", extra={"error": repr(failure.error)})


def _expired(stream: ListedStream) -> bool:
    """Listed, but nothing left to recover: its info hash expired, or it comes from a replica
    without replica ids and has had no heartbeat for long."""
    if not stream.info:
        return True
    return stream.replica is None and stream.heartbeat_at < time.time() - STALE_AFTER_SECONDS
