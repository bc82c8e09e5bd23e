"""The connection type every accounting query takes."""

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# A connection of its own (the ledger check's) or one lent by the pool: asyncpg's proxy
# forwards every call to the connection it wraps, but the stubs type the two apart.
Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
