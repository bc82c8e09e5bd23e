"""The connection every repository query runs on."""

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What ``pool.acquire()`` yields, or a connection opened on its own (a script, a test).
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
