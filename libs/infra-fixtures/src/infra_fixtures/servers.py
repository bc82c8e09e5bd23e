"""Serve an ASGI app over real HTTP on an ephemeral port, inside the running event loop.

For tests that need what only a real server gives: streamed responses read piece by piece,
clients that disconnect, and clients in other threads (boto3) or other processes.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import uvicorn

# An ASGI application, such as a FastAPI app.
ASGIApp = Callable[..., Awaitable[None]]


@asynccontextmanager
async def serve_app(app: ASGIApp, *, startup_timeout: float = 60) -> AsyncIterator[str]:
    """Run ``app`` (lifespan included) until the block ends; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(startup_timeout):
            while not server.started:
                if task.done():
                    task.result()  # raises what made start-up fail
                    raise RuntimeError("the server stopped during start-up")
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
