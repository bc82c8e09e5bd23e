"""A second chat replica for (c): CHAT_B_URL, or a copy of the local stack's chat started on
port 3012 as chat-b and stopped after."""

import contextlib
import os
from collections.abc import AsyncIterator

from bench.harness.services import service_copy

CHAT_B_URL = os.environ.get("CHAT_B_URL")  # a running second replica; one is started if unset
CHAT_B_PORT = 3012


@contextlib.asynccontextmanager
async def second_replica() -> AsyncIterator[str]:
    """The URL of a second chat replica, for as long as the context lasts."""
    if CHAT_B_URL:
        yield CHAT_B_URL
        return
    async with service_copy("chat", "chat-b", CHAT_B_PORT) as url:
        yield url
