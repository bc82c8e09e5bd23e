"""Chat as ``WORKERS`` processes on one port: uvicorn's supervisor holds the socket, each worker
accepts connections from it, and a worker that dies is started again.

Each worker is a replica of its own, as one on another machine would be, sharing nothing but
Redis and MongoDB (and the metrics directory): its own replica id and heartbeat (another
worker or replica ends the answers of one that died), its own fan-out of its answers (a
reader on another worker follows them from Redis, as on another replica), its own observers'
pub/sub and revocation queue, its own caches of plans and BYOK credentials (each bounded by
its TTL, per worker) and its own Bedrock clients. The model-health probe runs once per
interval for the whole deployment (a claim in Redis), in whichever worker wins the claim;
every worker reads its result.

Metrics: before the workers start, the supervisor points their ``PROMETHEUS_MULTIPROC_DIR``
at an emptied directory (``METRICS_DIR``, such as a Kubernetes emptyDir, else a temporary
one; the supervisor itself serves nothing and keeps prometheus_client's usual mode). Every
worker writes its figures there and any worker's ``/metrics`` answers for the machine
(``chat.metrics`` says how each series is combined). A worker's live gauges are removed when
it stops, and a new worker removes those of workers that died without stopping.
"""

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import uvicorn
from prometheus_client import multiprocess

from chat.config import ChatSettings
from service_kit.logs import configure_logging

log = logging.getLogger(__name__)

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
WORKER_HEALTHCHECK_SECONDS = 30
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def serve(settings: ChatSettings, app_factory: str) -> None:
    """Run ``settings.workers`` worker processes (more than one) until stopped, each serving
    the app ``app_factory`` ("module:function") builds."""
    configure_logging(settings.service_name, settings.log_level)
    # Read by prometheus_client when a worker imports it: the workers are new processes.
    os.environ[METRICS_DIR] = str(fresh_metrics_dir(settings.metrics_dir))
    log.info(
        "starting",
        extra={
            "environment": settings.environment,
            "port": settings.port,
            "workers": settings.workers,
        },
    )
    uvicorn.run(
        app_factory,
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        # A worker not answering the supervisor's ping this long is killed and replaced. Its
        # first answer waits for its imports (the script's, again, as a new process): 5 s, the
        # default, killed workers in a loop on a busy 2-core machine.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def fresh_metrics_dir(given: str | None) -> Path:
    """The directory the workers write their metrics to, emptied (figures of an earlier run
    would count again)."""
    if not given:
        return Path(tempfile.mkdtemp(prefix="chat-metrics-"))
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return path


def forget_worker(pid: int) -> None:
    """Drop the live gauges of a worker that stopped (nothing when not in multiprocess mode)."""
    if os.environ.get(METRICS_DIR):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]  # untyped


def forget_dead_workers() -> None:
    """Drop the live gauges of the workers that died without stopping (killed: uvicorn starts
    another one, which calls this)."""
    directory = os.environ.get(METRICS_DIR)
    if not directory:
        return
    pids = {int(m[1]) for f in os.listdir(directory) if (m := _LIVE_GAUGE_FILE.fullmatch(f))}
    for pid in pids - {os.getpid()}:
        if not _alive(pid):
            forget_worker(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has that pid
        return True
    return True
