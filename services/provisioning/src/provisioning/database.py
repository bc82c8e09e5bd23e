"""The connection type provisioning's queries run on."""

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection lent by the pool (every request and worker) or one of its own: the same API,
# but the stubs type them apart.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
