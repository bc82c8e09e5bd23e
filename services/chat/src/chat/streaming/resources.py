"""What every answer uses: the database, Redis, accounting and the limits."""

import uuid
from dataclasses import dataclass, field

from chat.accounting.client import AccountingClient
from chat.fanout import FanOut
from chat.limits.token_limit import KeyTokenLimiter
from chat.observation.hub import ObserverHub
from chat.sessions.repository import Database
from chat.streaming.events import StreamEvent
from chat.streaming.resume_log.batcher import LogBatcher
from chat.streaming.resume_log.stream_log import StreamLog


@dataclass
class Dependencies:
    db: Database
    hub: FanOut[StreamEvent]  # the connections following each answer produced here
    observers: ObserverHub
    log: StreamLog
    batcher: LogBatcher
    accounting: AccountingClient
    grace_seconds: float
    max_seconds: float
    key_tokens: KeyTokenLimiter
    hold_extend_seconds: float = 30
    # This process, as named in its streams' info hashes and its ``chat:replica:{id}`` key.
    replica_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    answer_store_seconds: float = 5  # how long an ended answer tries to be stored
