"""The SSE response (ASGI calls driven here, no server): its clean-up hook runs however the
response ends, and its one reach into sse-starlette's internals is pinned to the versions it
was written for."""

import asyncio
import importlib.metadata
import inspect
import re
from typing import Any

import anyio
import pytest
from sse_starlette import EventSourceResponse

from chat.streaming.sse import WRITTEN_FOR, StreamResponse


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


def major_minor(version: str) -> tuple[int, int]:
    major, minor = re.findall(r"\d+", version)[:2]
    return int(major), int(minor)


def test_sse_starlette_is_a_version_the_override_was_written_for():
    installed = importlib.metadata.version("sse-starlette")
    low, high = WRITTEN_FOR
    assert low <= major_minor(installed) < high, (
        f"sse-starlette {installed} is outside {low} <= version < {high}, the versions "
        "chat.streaming.sse.StreamResponse overrides EventSourceResponse._send_with_timeout "
        "for: check that every frame still goes through that method, with the same arguments "
        "and the same timeout behaviour, then widen WRITTEN_FOR"
    )


def test_the_overridden_method_is_still_there_with_the_same_arguments():
    method = EventSourceResponse._send_with_timeout
    assert list(inspect.signature(method).parameters) == ["self", "send", "message"]


@pytest.mark.parametrize(("send_timeout", "scopes"), [(None, 0), (5.0, 3)])
async def test_frames_take_a_cancel_scope_only_when_a_send_timeout_is_set(
    monkeypatch, send_timeout, scopes
):
    """Three frames: with no send timeout none of them enters ``anyio.move_on_after`` (what
    the override saves); with one, each does, the library's way."""
    entered: list[Any] = []
    move_on_after = anyio.move_on_after

    def counted(*args: Any, **kwargs: Any) -> Any:
        entered.append(args)
        return move_on_after(*args, **kwargs)

    monkeypatch.setattr(anyio, "move_on_after", counted)
    sent: list[dict[str, Any]] = []

    async def events():
        for text in ("one", "two", "three"):
            yield {"data": text}

    async def receive():
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    response = StreamResponse(events(), ping=0, send_timeout=send_timeout)
    await response({"type": "http", "method": "GET", "headers": []}, receive, send)

    body = b"".join(m.get("body", b"") for m in sent)
    assert all(f"data: {text}".encode() in body for text in ("one", "two", "three"))
    assert len(entered) == scopes
