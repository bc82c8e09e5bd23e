"""A copy of one of the local stack's services for the length of a bench: its command and
settings from deploy/local/stack.py, another port and name, stopped and reaped after."""

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from types import ModuleType

import httpx

from .settings import LOCAL_STACK, LOG_DIR, ROOT, RUN_DIR

READY_SECONDS = 90
STOP_SECONDS = 20


class NotReady(RuntimeError):
    """The copy exited, or did not answer /api/health/ready in time."""


def local_stack() -> ModuleType:
    """deploy/local/stack.py, the local stack's service definitions."""
    spec = importlib.util.spec_from_file_location("local_stack", LOCAL_STACK)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {LOCAL_STACK}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def start(service: str, name: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The stack's ``service`` as ``name`` on ``port``, logging to .local/logs/<name>.log.
    It still signs in to auth as ``service``: a client id of its own name would be refused."""
    definition = local_stack().service(service)
    environment = {
        **definition.environment(),
        "PORT": str(port),
        "SERVICE_NAME": name,
        "SERVICE_CLIENT_ID": service,
        **env,
    }
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        return subprocess.Popen(
            definition.command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopping it takes its children along
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM its process group, SIGKILL it after STOP_SECONDS; reaped either way."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while time.perf_counter() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/api/health/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise NotReady(f"{url} did not become ready (exit {process.poll()})")


@contextlib.asynccontextmanager
async def service_copy(
    service: str,
    name: str,
    port: int,
    env: dict[str, str] | None = None,
    ready_seconds: float = READY_SECONDS,
) -> AsyncIterator[str]:
    """The URL of a copy of the stack's ``service`` named ``name`` on ``port`` (``env`` on top
    of the stack's settings), ready, for as long as the context lasts. Its pid file,
    .local/run/<name>.pid, lets stack_processes() count its CPU meanwhile."""
    process = await asyncio.to_thread(start, service, name, port, env or {})
    pid_file = RUN_DIR / f"{name}.pid"
    pid_file.write_text(str(process.pid))
    try:
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process, ready_seconds)
        except NotReady as exc:
            raise NotReady(f"{exc}; see {LOG_DIR / f'{name}.log'}") from None
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(stop, process)
        pid_file.unlink(missing_ok=True)
