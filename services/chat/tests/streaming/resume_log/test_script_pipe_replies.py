"""The script connection's answers beyond integers: arrays (the batch script's ``{refused,
lost...}``), read whole however the bytes arrive, and NOSCRIPT, which drops the connection so
that the next one loads the script again."""

import asyncio

import pytest

from chat.streaming.resume_log.script_pipe import ScriptError, ScriptPipe


async def test_an_array_answer_from_the_real_redis(redis_url):
    pipe = ScriptPipe(redis_url, "return {tonumber(ARGV[1]), 2, {3, 'x'}, {}}")
    await pipe.connect()
    assert await pipe.call([], ["7"]) == [7, 2, [3, b"x"], []]
    await pipe.aclose()


class ForgetfulRedis:
    """Loads scripts, answers the first EVALSHA with NOSCRIPT (as after SCRIPT FLUSH) and the
    next ones with an array, sent a byte at a time."""

    def __init__(self) -> None:
        self.loads = 0
        self.forgot = False
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while header := await reader.readline():
                parts = []
                for _ in range(int(header[1:])):
                    size = int((await reader.readline())[1:])
                    parts.append((await reader.readexactly(size + 2))[:-2])
                if parts[0] == b"SCRIPT":
                    self.loads += 1
                    writer.write(b"$3\r\nabc\r\n")
                elif not self.forgot:
                    self.forgot = True
                    writer.write(b"-NOSCRIPT No matching script.\r\n")
                else:
                    for byte in b"*2\r\n:0\r\n*1\r\n$2\r\nok\r\n":
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def test_noscript_drops_the_connection_and_the_next_one_loads_the_script_again():
    server = ForgetfulRedis()
    port = await server.start()
    pipe = ScriptPipe(f"redis://127.0.0.1:{port}", "return 1")
    try:
        await pipe.connect()
        with pytest.raises(ScriptError, match="NOSCRIPT"):
            await pipe.call([], [])
        assert not pipe.connected
        await pipe.connect()
        assert pipe.connections == 2 and server.loads == 2
        assert await pipe.call([], []) == [0, [b"ok"]]
    finally:
        await pipe.aclose()
        await server.stop()
