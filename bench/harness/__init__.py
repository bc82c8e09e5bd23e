"""What the benches share: the stack's addresses, httpx clients, percentiles and targets, CPU
and memory from /proc, the platform's users and sessions, a timed chat stream, waiting for a
quiet stack, a copy of one of the stack's services, and running a bench to a clean end."""

from .chat import Stream, chat_stream, prompt, refusal, timed_events
from .clients import Pools, new_client
from .platform import Platform, Setup, User
from .proc import (
    CpuMeter,
    cpu_seconds,
    descendants,
    print_cpu,
    rss_kib,
    service_pid,
    stack_processes,
    stack_rss,
)
from .quiet import LogWatch, Settler, print_backlog, print_log, usage_backlog, wait_for_quiet
from .run import EVENT_LOOP, run, uvloop
from .services import NotReady, service_copy
from .settings import (
    ACCOUNTING_URL,
    ADMIN,
    AUTH_URL,
    CHAT_URL,
    GATEWAY_URL,
    LOG_DIR,
    MAX_TOKENS,
    MODEL,
    MONGO_DATABASE,
    MONGO_URL,
    RUN_DIR,
    SIMULATOR_URL,
    SUPERVISOR,
)
from .stats import Target, met, percentile

__all__ = [
    "ACCOUNTING_URL",
    "ADMIN",
    "AUTH_URL",
    "CHAT_URL",
    "EVENT_LOOP",
    "GATEWAY_URL",
    "LOG_DIR",
    "MAX_TOKENS",
    "MODEL",
    "MONGO_DATABASE",
    "MONGO_URL",
    "RUN_DIR",
    "SIMULATOR_URL",
    "SUPERVISOR",
    "CpuMeter",
    "LogWatch",
    "NotReady",
    "Platform",
    "Pools",
    "Settler",
    "Setup",
    "Stream",
    "Target",
    "User",
    "chat_stream",
    "cpu_seconds",
    "descendants",
    "met",
    "new_client",
    "percentile",
    "print_backlog",
    "print_cpu",
    "print_log",
    "prompt",
    "refusal",
    "rss_kib",
    "run",
    "service_copy",
    "service_pid",
    "stack_processes",
    "stack_rss",
    "timed_events",
    "usage_backlog",
    "uvloop",
    "wait_for_quiet",
]
