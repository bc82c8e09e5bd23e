"""The pipelined script connection against a stand-in Redis that holds its answers back:
calls go out without waiting, answers match calls in order, failures reach every call still
out, and the next call reconnects. (Against the real Redis: test_batcher.py.)"""

import asyncio

import pytest
import pytest_asyncio

from chat.streaming.resume_log.script_pipe import ScriptError, ScriptPipe


class HeldRedis:
    """Records every command; answers SCRIPT LOAD, AUTH and SELECT at once and each EVALSHA
    only when released (``:`` + its first key, or an error for a key starting with "fail")."""

    def __init__(self) -> None:
        self.commands: list[list[bytes]] = []
        self.release = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []
        self.answer_evalsha = True
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        self._server.close()
        await self._server.wait_closed()

    def evalsha_count(self) -> int:
        return sum(1 for command in self.commands if command[0] == b"EVALSHA")

    def drop_connections(self) -> None:
        for writer in self.writers:
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Reads every command as it comes; answers them in order from another task."""
        self.writers.append(writer)
        received: asyncio.Queue[list[bytes]] = asyncio.Queue()
        answering = asyncio.create_task(self._answer(received, writer))
        try:
            while command := await _read_command(reader):
                self.commands.append(command)
                received.put_nowait(command)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            answering.cancel()

    async def _answer(self, received: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
        while True:
            command = await received.get()
            if command[0] == b"EVALSHA":
                if not self.answer_evalsha:
                    continue
                await self.release.wait()
                key = command[3]
                writer.write(
                    b"-ERR script failed\r\n" if key.startswith(b"fail") else b":%s\r\n" % key
                )
            elif command[:2] == [b"SCRIPT", b"LOAD"]:
                writer.write(b"$3\r\nabc\r\n")
            else:
                writer.write(b"+OK\r\n")


async def _read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    header = await reader.readline()
    if not header:
        return None
    parts = []
    for _ in range(int(header[1:])):
        size = int((await reader.readline())[1:])
        parts.append((await reader.readexactly(size + 2))[:-2])
    return parts


@pytest_asyncio.fixture
async def server():
    held = HeldRedis()
    held.port = await held.start()
    yield held
    await held.stop()


async def wait_until(condition, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def test_calls_go_out_before_earlier_ones_are_answered_and_answers_match_in_order(server):
    pipe = ScriptPipe(f"redis://user:secret@127.0.0.1:{server.port}/3", "return 1")
    await pipe.connect()
    first = pipe.call(["7"], ["a"])
    second = pipe.call(["8"], ["b"])
    await wait_until(lambda: server.evalsha_count() == 2)  # both sent, neither answered
    assert not first.done() and not second.done()
    assert pipe.in_flight == 2
    server.release.set()
    assert await first == 7
    assert await second == 8
    assert server.commands[:3] == [
        [b"AUTH", b"user", b"secret"],
        [b"SELECT", b"3"],
        [b"SCRIPT", b"LOAD", b"return 1"],
    ]
    assert server.commands[3] == [b"EVALSHA", b"abc", b"1", b"7", b"a"]
    await pipe.aclose()


async def test_an_error_answer_fails_only_its_own_call(server):
    server.release.set()
    pipe = ScriptPipe(f"redis://127.0.0.1:{server.port}", "return 1")
    await pipe.connect()
    failed, fine = pipe.call(["fail"], []), pipe.call(["5"], [])
    with pytest.raises(ScriptError, match="script failed"):
        await failed
    assert await fine == 5
    assert server.commands[0] == [b"SCRIPT", b"LOAD", b"return 1"]  # no AUTH, no SELECT
    await pipe.aclose()


async def test_a_lost_connection_fails_every_call_still_out_and_the_next_reconnects(server):
    pipe = ScriptPipe(f"redis://127.0.0.1:{server.port}", "return 1")
    await pipe.connect()
    out = [pipe.call([str(i)], []) for i in range(3)]
    await wait_until(lambda: server.evalsha_count() == 3)
    server.drop_connections()
    for call in out:
        with pytest.raises(ConnectionError):
            await call
    assert not pipe.connected
    with pytest.raises(ConnectionError):
        pipe.call(["9"], [])  # no connection until connect()
    server.release.set()
    await pipe.connect()
    assert await pipe.call(["9"], []) == 9
    await pipe.aclose()


async def test_a_call_left_unanswered_drops_the_connection(server):
    server.answer_evalsha = False
    pipe = ScriptPipe(f"redis://127.0.0.1:{server.port}", "return 1", reply_timeout=0.2)
    await pipe.connect()
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(pipe.call(["1"], []), 2)
    assert not pipe.connected
    await pipe.aclose()


async def test_nothing_listening_is_an_os_error_and_a_bad_url_is_refused():
    pipe = ScriptPipe("redis://127.0.0.1:1", "return 1")
    with pytest.raises(OSError):
        await pipe.connect()
    with pytest.raises(ValueError):
        ScriptPipe("http://127.0.0.1:6379", "return 1")
