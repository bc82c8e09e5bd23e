"""What every answer uses: the database, Redis, accounting, the relay and the limits."""

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from chat.accounting.client import AccountingClient
from chat.observation.hub import ObserverHub
from chat.streaming.hub import LocalHub
from chat.streaming.log_batcher import LogBatcher
from chat.streaming.redis_log import StreamLog
from chat.usage.relay import UsageRelay


@dataclass
class Dependencies:
    db: AsyncDatabase
    hub: LocalHub
    observers: ObserverHub
    log: StreamLog
    batcher: LogBatcher
    accounting: AccountingClient
    relay: UsageRelay
    grace_seconds: float
    max_seconds: float
    hold_extend_seconds: float = 30
