"""WORKERS: chat's console script runs that many worker processes on one port; any worker's
/metrics counts what every worker served, a stop leaves no live gauge behind, and a worker
starting forgets the live gauges of the workers that died without stopping (uvicorn replaces
a worker killed outright)."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chat.workers import METRICS_DIR, forget_dead_workers, fresh_metrics_dir

pytestmark = pytest.mark.timeout(90)

CHAT_SERVICE = Path(sys.executable).parent / "chat-service"
LIVE_GAUGES = re.compile(r"gauge_live\w+?_(\d+)\.db")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_pids(directory: Path) -> set[int]:
    return {int(m[1]) for f in os.listdir(directory) if (m := LIVE_GAUGES.fullmatch(f))}


async def until(check, what: str, timeout: float = 60) -> None:
    """Polls a process this test does not control (no event to await)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def health_requests(metrics_text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("http_requests_total{") and 'route="/api/health"' in line
    )


async def test_workers_share_one_port_and_their_metrics(
    tmp_path, redis_url, rabbitmq_url, bus_namespace, mongo_url, mongo_database_name
):
    port, metrics_dir = free_port(), tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"from an earlier run")
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "WORKERS": "2",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_DIR": str(metrics_dir),
        "MONGO_URL": mongo_url,
        "MONGO_DATABASE": mongo_database_name,
        "REDIS_URL": redis_url,
        "RABBITMQ_URL": rabbitmq_url,
        "BUS_EXCHANGE": bus_namespace.exchange_name("chat-workers"),
        "AUTH_URL": f"http://127.0.0.1:{free_port()}",  # nobody: not needed for these routes
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for below
        [str(CHAT_SERVICE)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    # No keep-alive: each request is a new connection, taken by whichever worker accepts it.
    async with httpx.AsyncClient(
        base_url=base, limits=httpx.Limits(max_keepalive_connections=0)
    ) as http:

        async def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "")
            try:
                return (await http.get("/api/health/ready")).status_code == 200
            except httpx.TransportError:
                return False

        async def both_started() -> bool:
            return len(live_pids(metrics_dir)) == 2

        try:
            await until(ready, "chat to be ready")
            await until(both_started, "two workers")
            assert not (metrics_dir / "counter_1.db").exists()  # the directory was emptied
            workers = live_pids(metrics_dir)

            sent = 0

            async def both_served() -> bool:
                nonlocal sent
                await http.get("/api/health")
                sent += 1
                return all((metrics_dir / f"counter_{pid}.db").exists() for pid in workers)

            await until(both_served, "both workers to serve a request", timeout=20)
            for _ in range(2):  # whichever worker answers /metrics, it counts both
                assert health_requests((await http.get("/metrics")).text) == sent

        finally:
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(process.wait, 30)
    assert returncode == 0
    assert live_pids(metrics_dir) == set()  # each stopping worker removed its live gauges


def test_the_metrics_dir_is_emptied_or_made(tmp_path):
    given = tmp_path / "given"
    (given / "old").mkdir(parents=True)
    (given / "counter_7.db").write_bytes(b"x")
    assert fresh_metrics_dir(str(given)) == given
    assert list(given.iterdir()) == []
    made = fresh_metrics_dir(None)
    assert made.is_dir() and list(made.iterdir()) == []
    made.rmdir()


def test_a_starting_worker_forgets_the_live_gauges_of_dead_workers(tmp_path, monkeypatch):
    monkeypatch.setenv(METRICS_DIR, str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = os.getppid()
    for pid in (dead.pid, alive, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"gauge_livemostrecent_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{dead.pid}.db").write_bytes(b"")  # what it counted still counts

    forget_dead_workers()

    assert live_pids(tmp_path) == {alive, os.getpid()}
    assert (tmp_path / f"counter_{dead.pid}.db").exists()
