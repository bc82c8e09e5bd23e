"""The SSE response's own clean-up hook, without a server: the ASGI calls are driven here."""

import asyncio

import pytest

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
