"""Resuming an answer with ``Last-Event-ID``: every event after the one the client had, none
twice, none missing, then the live ones, from whichever replica produces it.

An answer produced here is followed from the log and the events Redis has not confirmed yet
(taken with the subscription, before reading Redis: an event is in Redis by the time it leaves
that list, and any later one comes through the subscription). One produced elsewhere is
followed in its log until its last event. When the log lacks some events (Redis lost them),
the stream ends with ``error`` ``resume_gap``, never a silent skip.
"""

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import redis.asyncio as redis

from chat.sessions import repository
from chat.sessions.records import SessionRecord
from chat.streaming.events import StreamEvent
from chat.streaming.production.producer import AnswerProducer
from chat.streaming.resources import Dependencies
from service_kit import ApiError

log = logging.getLogger(__name__)

REMOTE_ATTACH_TTL_SECONDS = 3


def stream_gone() -> ApiError:
    return ApiError(410, "stream_expired", "That answer can no longer be resumed; ask again")


def resume_gap(streaming_session_id: str, last_seq: int) -> StreamEvent:
    """The end of a resumed stream whose log lacks the events after ``last_seq`` (Redis lost
    them): an error, never a silent skip. It carries ``last_seq``, the last event the client
    has, since it is no event of the answer."""
    return StreamEvent(
        streaming_session_id,
        last_seq,
        "error",
        {
            "code": "resume_gap",
            "message": "Part of this answer is no longer kept, so it cannot be resumed from "
            "here; the stored answer is in the session once it ends",
        },
    )


def lost_behind(end: StreamEvent, after_seq: int) -> bool:
    """Whether ``end``, the log's last event, is the ``answer_lost`` another replica wrote
    behind a client that is ahead of the log: its producer died with events sent to the client
    but not yet logged, so the end was written at a seq the client already has."""
    return end.event == "error" and end.data.get("code") == "answer_lost" and end.seq < after_seq


def lost_end(end: StreamEvent, after_seq: int) -> StreamEvent:
    """That end, as the event after the client's last one (it has none of the answer's own)."""
    return StreamEvent(end.streaming_session_id, after_seq + 1, end.event, end.data)


class Resumption:
    """Resumes answers, told of the ones this replica produces by ``producers``."""

    def __init__(self, deps: Dependencies, producers: Mapping[str, AnswerProducer]) -> None:
        self._deps = deps
        self._producers = producers

    async def resume(
        self, session: SessionRecord, streaming_session_id: str, after_seq: int
    ) -> AsyncIterator[StreamEvent] | None:
        """The events of one of ``session``'s answers after ``after_seq``; None when that
        answer is over and the client has had all of it.

        410 when ``streaming_session_id`` is not an answer of this session (and so of its
        owner) or is no longer kept: the same answer either way, so nobody learns whether
        another user's or another session's stream exists."""
        try:
            if not await self._of_session(streaming_session_id, session):
                raise stream_gone()
            producer = self._producers.get(streaming_session_id)
            if producer is not None:
                if producer.ended and producer.last_seq <= after_seq:
                    return None
            else:
                last = await self._deps.log.last(streaming_session_id)
                if last is None:
                    if await self._lost_while_live(session, streaming_session_id):
                        return self._gap(streaming_session_id, after_seq)
                    raise stream_gone()
                if last.is_terminal and last.seq <= after_seq:
                    if lost_behind(last, after_seq):
                        return self._one(lost_end(last, after_seq))
                    return None
        except redis.RedisError as exc:
            log.warning("redis unavailable for a resume", extra={"error": repr(exc)})
            raise ApiError(
                503, "resume_unavailable", "Resuming is unavailable right now; try again"
            ) from exc
        return self.follow(streaming_session_id, after_seq)

    async def _lost_while_live(self, session: SessionRecord, streaming_session_id: str) -> bool:
        """Whether an answer produced elsewhere whose log Redis no longer has may still be
        running (Redis restarted under it): asked less than ``max_seconds`` ago and not stored
        yet. Telling such a client 410 ("ask again") would have it pay for the answer twice."""
        asked = await repository.asked_at(
            self._deps.db, session.id, session.user_id, streaming_session_id
        )
        if asked is None or repository.now() - asked > timedelta(seconds=self._deps.max_seconds):
            return False
        stored = await repository.stored_answer_record(
            self._deps.db, session.id, streaming_session_id
        )
        return stored is None

    async def _gap(self, streaming_session_id: str, after_seq: int) -> AsyncIterator[StreamEvent]:
        yield resume_gap(streaming_session_id, after_seq)

    async def _one(self, event: StreamEvent) -> AsyncIterator[StreamEvent]:
        yield event

    async def _of_session(self, streaming_session_id: str, session: SessionRecord) -> bool:
        """Whether ``streaming_session_id`` is an answer asked in ``session`` by its owner: told
        by the producer when it runs here, by Redis while it runs elsewhere, by the stored question
        once it is over."""
        owner = (session.id, session.user_id)
        producer = self._producers.get(streaming_session_id)
        if producer is not None:
            return (producer.request.session_id, producer.request.user_id) == owner
        live = await self._deps.log.owner(streaming_session_id)
        if live is not None:
            return live == owner
        return await repository.has_stream(self._deps.db, *owner, streaming_session_id)

    async def follow(self, streaming_session_id: str, after_seq: int) -> AsyncIterator[StreamEvent]:
        """The events after ``after_seq``: none twice, none missing, then live ones; it ends
        with the answer's last event, also when that was before ``after_seq``, or with
        ``resume_gap`` when the log lacks some of them."""
        producer = self._producers.get(streaming_session_id)
        if producer is None:
            async for event in self._follow_remote(streaming_session_id, after_seq):
                yield event
            return
        hub = self._deps.hub
        queue = hub.subscribe(streaming_session_id)
        producer.attach()
        try:
            unconfirmed = producer.unconfirmed_events()  # before reading Redis: see above
            last = after_seq
            for event in [
                *await self._deps.log.replay(streaming_session_id, after_seq),
                *unconfirmed,
            ]:
                if event.seq > last + 1:
                    yield resume_gap(streaming_session_id, last)
                    return
                if event.seq > last:
                    yield event
                    last = event.seq
                if event.is_terminal:
                    return
            while True:
                event = await queue.get()
                if event.seq > last + 1:
                    yield resume_gap(streaming_session_id, last)
                    return
                if event.seq > last:
                    yield event
                    last = event.seq
                if event.is_terminal:
                    return
        finally:
            hub.unsubscribe(streaming_session_id, queue)
            producer.detach()

    async def _follow_remote(
        self, streaming_session_id: str, after_seq: int
    ) -> AsyncIterator[StreamEvent]:
        """The answer is produced by another replica: follow its log in Redis until its last
        event. Should its producer die, another replica ends it in the log (``recovery``)."""
        stream_log = self._deps.log
        last = after_seq
        while True:
            await stream_log.mark_attached(streaming_session_id, REMOTE_ATTACH_TTL_SECONDS)
            events = await stream_log.tail(streaming_session_id, last, block_ms=1000)
            for event in events:
                if event.seq > last + 1:
                    yield resume_gap(streaming_session_id, last)
                    return
                yield event
                last = event.seq
                if event.is_terminal:
                    return
            if not events:
                newest = await stream_log.last(streaming_session_id)
                if newest is None:  # gone before its end reached this client
                    yield resume_gap(streaming_session_id, last)
                    return
                if newest.is_terminal and newest.seq <= last:
                    if lost_behind(newest, last):
                        yield lost_end(newest, last)
                    return
