"""The batched Redis writes of live streams: few round trips, every event once and in order."""

import asyncio
import uuid
from urllib.parse import urlsplit

import pytest_asyncio
import redis.asyncio as redis

from chat.observation.hub import published_events
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.batcher import LogBatcher
from chat.streaming.resume_log.keys import (
    ACTIVE_KEY,
    events_key,
    info_key,
    live_key,
    observe_channel,
)
from chat.streaming.resume_log.stream_log import StreamLog
from infra_fixtures.proxy import TcpProxy

CHUNKS = 300


@pytest_asyncio.fixture(loop_scope="session")
async def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def events_of(streaming_session_id: str, chunks: int) -> list[StreamEvent]:
    model = StreamEvent(
        streaming_session_id,
        1,
        "model",
        {"modelId": "m", "streamingSessionId": streaming_session_id},
    )
    pieces = [
        StreamEvent(
            streaming_session_id, seq, "chunk", {"content": f"w{seq} ", "tokenCount": seq - 1}
        )
        for seq in range(2, chunks + 2)
    ]
    end = StreamEvent(streaming_session_id, chunks + 2, "complete", {"tokensUsed": chunks})
    return [model, *pieces, end]


async def test_many_chunks_of_many_streams_make_few_writes_with_every_event_in_order(
    client, redis_url
):
    batcher = LogBatcher(redis_url, interval=0.02, resume_window=60, max_lifetime=60)
    streams = {str(uuid.uuid4()): str(uuid.uuid4()) for _ in range(3)}  # stream -> session
    expected = {
        streaming_session_id: events_of(streaming_session_id, CHUNKS)
        for streaming_session_id in streams
    }
    observer = client.pubsub(ignore_subscribe_messages=True)
    await observer.subscribe(*(observe_channel(session) for session in streams.values()))
    batcher.start()
    try:
        pending = {s: batcher.open(s, session) for s, session in streams.items()}
        for stream in pending.values():
            stream.begin({"userId": "u"})
        for i in range(CHUNKS + 2):  # the streams interleave, a few events between pauses
            for streaming_session_id, stream in pending.items():
                stream.add(expected[streaming_session_id][i])
            if i % 20 == 0:
                await asyncio.sleep(0.005)
        for stream in pending.values():
            assert stream.unconfirmed  # not written yet: the batch is still open
        await asyncio.wait_for(
            asyncio.gather(*(stream.flushed() for stream in pending.values())), 5
        )
        assert all(not stream.unconfirmed for stream in pending.values())
    finally:
        await batcher.stop()

    assert batcher.writes <= 10, batcher.writes  # for 906 events
    log = StreamLog(client)
    published: dict[str, list[StreamEvent]] = {s: [] for s in streams}
    deadline = asyncio.get_running_loop().time() + 1
    while asyncio.get_running_loop().time() < deadline:
        # None also stands for a subscription's confirmation, left out
        if message := await observer.get_message(timeout=0.1):
            for event in published_events(message["data"]):
                published[event.streaming_session_id].append(event)
    await observer.aclose()
    for streaming_session_id, session_id in streams.items():
        assert await log.replay(streaming_session_id) == expected[streaming_session_id]
        assert (
            await log.replay(streaming_session_id, after_seq=100)
            == expected[streaming_session_id][100:]
        )
        assert published[streaming_session_id] == expected[streaming_session_id]
        assert await log.live_stream_of(session_id) is None  # the end took it off the live list


async def test_without_an_interval_each_turn_of_the_loop_is_one_write_sent_without_waiting(
    client, redis_url
):
    """interval=0: what producers add in one turn of the loop goes in one write, and the next
    turn's write goes out while the one before is still unanswered (pipelined)."""
    batcher = LogBatcher(redis_url, interval=0, resume_window=60, max_lifetime=60)
    streaming_session_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    events = events_of(streaming_session_id, 40)
    batcher.start()
    try:
        stream = batcher.open(streaming_session_id, session_id)
        stream.begin({"userId": "u"})
        for event in events[:10]:  # one turn of the loop
            stream.add(event)
        await asyncio.wait_for(stream.flushed(), 1)
        assert batcher.writes == 1

        for event in events[10:]:  # a turn each
            stream.add(event)
            await asyncio.sleep(0)
        await asyncio.wait_for(stream.flushed(), 2)
        assert 1 < batcher.writes <= 1 + len(events[10:])
    finally:
        await batcher.stop()
    assert await StreamLog(client).replay(streaming_session_id) == events


async def test_an_interval_spaces_writes_out_but_never_delays_one_after_a_quiet_spell(
    client, redis_url
):
    batcher = LogBatcher(redis_url, interval=1.0, resume_window=60, max_lifetime=60)
    streaming_session_id = str(uuid.uuid4())
    events = events_of(streaming_session_id, 1)
    batcher.start()
    try:
        stream = batcher.open(streaming_session_id, str(uuid.uuid4()))
        stream.add(events[0])
        await asyncio.wait_for(stream.flushed(), 0.5)  # the first in a while: at once
        stream.add(events[1])
        await asyncio.sleep(0.3)
        assert stream.unconfirmed == [events[1]]  # within 1 s of the last write: waits
        await asyncio.wait_for(stream.flushed(), 2)
    finally:
        await batcher.stop()
    assert await StreamLog(client).replay(streaming_session_id) == events[:2]


async def test_an_event_is_written_the_same_as_it_is_read_back():
    event = StreamEvent("s-1", 7, "chunk", {"content": 'a "quoted"\nline é', "tokenCount": 7})
    assert StreamEvent.from_json(event.to_json()) == event
    assert event.sse_frame == (
        b'id: s-1:7\r\nevent: chunk\r\ndata: {"content":"a \\"quoted\\"\\nline \\u00e9",'
        b'"tokenCount":7}\r\n\r\n'
    )


async def test_redis_cut_mid_stream_drops_those_writes_without_hanging_and_later_ones_land(
    client, redis_url
):
    """Through a proxy to the real Redis: while it is cut, writes fail (logged, dropped as
    before) and nobody waits on them; once it is back the next write reconnects."""
    target = urlsplit(redis_url)
    async with TcpProxy(target.hostname, target.port or 6379) as proxy:
        database = target.path or "/0"
        batcher = LogBatcher(
            f"redis://127.0.0.1:{proxy.port}{database}",
            interval=0,
            resume_window=60,
            max_lifetime=60,
        )
        streaming_session_id = str(uuid.uuid4())
        events = events_of(streaming_session_id, 6)
        batcher.start()
        try:
            stream = batcher.open(streaming_session_id, str(uuid.uuid4()))
            for event in events[:3]:
                stream.add(event)
            await asyncio.wait_for(stream.flushed(), 2)

            await proxy.cut()
            for event in events[3:5]:
                stream.add(event)
            await asyncio.wait_for(stream.flushed(), 10)  # failed, not waited on forever
            assert stream.unconfirmed == []

            await proxy.restore()
            stream.add(events[5])
            await asyncio.wait_for(stream.flushed(), 10)
        finally:
            await batcher.stop()
    logged = await StreamLog(client).replay(streaming_session_id)
    assert logged[:3] == events[:3]
    assert logged[-1] == events[5]  # written after the reconnection


def keys_of(streaming_session_id: str, session_id: str) -> list[str]:
    return [events_key(streaming_session_id), info_key(streaming_session_id), live_key(session_id)]


async def forget_in_redis(client: redis.Redis, streaming_session_id: str, session_id: str) -> None:
    """What a Redis restarted empty (or flushed) holds of a stream: nothing."""
    await client.delete(*keys_of(streaming_session_id, session_id))
    await client.zrem(ACTIVE_KEY, streaming_session_id)


async def listed(client: redis.Redis, streaming_session_id: str, session_id: str) -> bool:
    """Whether the stream is listed as live: info hash, live key and active entry."""
    info = await client.hgetall(info_key(streaming_session_id))
    live = await client.get(live_key(session_id))
    return (
        info.get(b"userId") == b"u"
        and live == streaming_session_id.encode()
        and await client.zscore(ACTIVE_KEY, streaming_session_id) is not None
    )


async def test_after_redis_comes_back_empty_a_live_stream_is_rewritten_whole(client, redis_url):
    """A restart as the batcher sees it: its connection reset, Redis empty when it is back,
    events dropped meanwhile. The next write, on a new connection, writes the start and every
    event from seq 1 again, so the log holds exactly what was sent."""
    target = urlsplit(redis_url)
    async with TcpProxy(target.hostname, target.port or 6379) as proxy:
        batcher = LogBatcher(
            f"redis://127.0.0.1:{proxy.port}{target.path or '/0'}",
            interval=0,
            resume_window=60,
            max_lifetime=60,
            retry_seconds=0.2,
        )
        streaming_session_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
        events = events_of(streaming_session_id, 12)
        batcher.start()
        try:
            stream = batcher.open(streaming_session_id, session_id)
            stream.begin({"userId": "u"})
            for event in events[:5]:
                stream.add(event)
            await asyncio.wait_for(stream.written(), 2)

            await proxy.cut()
            await forget_in_redis(client, streaming_session_id, session_id)
            for event in events[5:8]:  # dropped: Redis is away
                stream.add(event)
            await asyncio.wait_for(stream.flushed(), 5)
            assert stream.unwritten() == events[:8]  # a resumer here still gets them all
            await proxy.restore()

            stream.add(events[8])
            await asyncio.wait_for(stream.written(), 5)
            assert await StreamLog(client).replay(streaming_session_id) == events[:9]
            assert await listed(client, streaming_session_id, session_id)

            for event in events[9:]:
                stream.add(event)
            await asyncio.wait_for(stream.written(), 5)
        finally:
            await batcher.stop()
    assert await StreamLog(client).replay(streaming_session_id) == events
    assert not await listed(
        client, streaming_session_id, session_id
    )  # its end took it off the list


async def test_a_stream_whose_keys_redis_no_longer_has_is_rewritten_on_the_same_connection(
    client, redis_url
):
    """No reconnection (a FLUSHDB, an eviction): the script tells which streams lost their
    keys, from a heartbeat without the info hash or events without the log before them."""
    batcher = LogBatcher(redis_url, interval=0, resume_window=60, max_lifetime=60)
    streaming_session_id, session_id = str(uuid.uuid4()), str(uuid.uuid4())
    events = events_of(streaming_session_id, 8)
    observer = client.pubsub(ignore_subscribe_messages=True)
    await observer.subscribe(observe_channel(session_id))
    batcher.start()
    try:
        stream = batcher.open(streaming_session_id, session_id)
        stream.begin({"userId": "u"})
        for event in events[:4]:
            stream.add(event)
        await asyncio.wait_for(stream.written(), 2)

        await forget_in_redis(client, streaming_session_id, session_id)
        stream.heartbeat()
        await asyncio.sleep(0.3)
        assert await listed(client, streaming_session_id, session_id)
        assert await StreamLog(client).replay(streaming_session_id) == events[:4]

        await forget_in_redis(client, streaming_session_id, session_id)
        stream.add(events[4])
        await asyncio.sleep(0.3)
        assert await StreamLog(client).replay(streaming_session_id) == events[:5]
        assert await listed(client, streaming_session_id, session_id)
        assert batcher.rewrites == 2
    finally:
        await batcher.stop()
    published: list[int] = []
    deadline = asyncio.get_running_loop().time() + 0.5
    while asyncio.get_running_loop().time() < deadline:
        if message := await observer.get_message(timeout=0.1):  # None: the confirmation too
            published += [event.seq for event in published_events(message["data"])]
    await observer.aclose()
    assert published == [1, 2, 3, 4, 5]  # a rewrite does not publish again what Redis took
