"""Letting go of a stream when its response ends, however it ends: the SSE response's clean-up
hook (ASGI calls driven here, no server) and a connection's hold on the answer it started."""

import asyncio

import pytest

from chat.streaming.events import StreamEvent
from chat.streaming.hub import LocalHub
from chat.streaming.service import Following
from chat.streaming.sse import StreamResponse


async def test_on_close_runs_when_the_body_is_never_iterated():
    started, closed = [], []

    async def events():
        started.append(True)
        yield {"data": "never sent"}

    async def receive():
        await asyncio.Event().wait()  # no disconnect message: the send fails first

    async def send(message):
        raise OSError("client gone before the first byte")

    async def on_close():
        closed.append(True)

    response = StreamResponse(events(), on_close=on_close, ping=0)
    with pytest.raises(OSError):
        await response({"type": "http", "method": "GET", "headers": []}, receive, send)

    assert started == []  # the generator's own finally would never have run
    assert closed == [True]


async def test_on_close_runs_once_after_a_complete_stream():
    sent, closed = [], []

    async def events():
        yield {"data": "one"}

    async def receive():
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    async def on_close():
        closed.append(True)

    response = StreamResponse(events(), on_close=on_close, ping=0)
    await response({"type": "http", "method": "GET", "headers": []}, receive, send)

    assert b"data: one" in b"".join(m.get("body", b"") for m in sent)
    assert closed == [True]


class CountingProducer:
    """The part of an answer producer a Following touches."""

    def __init__(self, stream_id: str) -> None:
        self.request = type("Request", (), {"stream_id": stream_id})()
        self.detached = 0

    def detach(self) -> None:
        self.detached += 1


async def test_a_following_never_iterated_lets_go_of_its_answer_on_close():
    hub, producer = LocalHub(), CountingProducer("r-1")
    following = Following(hub, producer, hub.subscribe("r-1"))

    await following.aclose()
    await following.aclose()

    assert producer.detached == 1
    assert hub.listeners("r-1") == 0


async def test_a_following_read_to_the_end_lets_go_once_however_often_closed():
    hub, producer = LocalHub(), CountingProducer("r-2")
    following = Following(hub, producer, hub.subscribe("r-2"))
    hub.publish(StreamEvent("r-2", 1, "chunk", {"content": "a"}))
    hub.publish(StreamEvent("r-2", 2, "complete", {}))

    seen = [event.seq async for event in following]
    await following.aclose()

    assert seen == [1, 2]
    assert producer.detached == 1
    assert hub.listeners("r-2") == 0


async def test_sse_starlette_still_sends_every_frame_through_the_overridden_method():
    """StreamResponse overrides a private method of sse-starlette's; if an upgrade renames it,
    the override is silently dead (frames go the library's slower way). This says so."""
    calls = []

    class Counting(StreamResponse):
        async def _send_with_timeout(self, send, message):
            calls.append(message["type"])
            await super()._send_with_timeout(send, message)

    async def events():
        yield {"data": "one"}

    async def receive():
        await asyncio.Event().wait()

    async def send(message):
        pass

    await Counting(events(), ping=0)(
        {"type": "http", "method": "GET", "headers": []}, receive, send
    )

    assert calls.count("http.response.body") >= 1  # every frame, through the override
