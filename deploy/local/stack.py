"""The local stack: every service as a plain process on this machine.

    python deploy/local/stack.py up      start what is not running, wait until ready, print URLs
    python deploy/local/stack.py down    stop what this script started
    python deploy/local/stack.py status  what answers
    python deploy/local/stack.py start NAME...    start those services (or `secantusdb`) if they
                                         do not answer, and wait until they are ready
    python deploy/local/stack.py stop NAME...     stop them (SIGTERM, then SIGKILL after 15 s)
    python deploy/local/stack.py kill NAME...     SIGKILL them at once, as a crash would (faults)
    python deploy/local/stack.py restart NAME...  stop, then start
    python deploy/local/stack.py e2e [pytest args]   run tests-e2e (or the test files named in
                                         the arguments) against a running stack,
                                         starting one first (and stopping it after) if none answers;
                                         it lets the fault tests stop this machine's RabbitMQ
                                         (E2E_BROKER_CONTROL), PostgreSQL, Redis and SecantusDB
                                         (E2E_INFRA_CONTROL) when the stack uses them

Services use the machine's PostgreSQL, Redis and RabbitMQ (see deploy/local/ensure-infra.sh)
and SecantusDB as the MongoDB server. Logs go to .local/logs/, pid files to .local/run/.
Run it with the workspace's Python (``uv run python deploy/local/stack.py``).
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "services" / "console"
STATE = ROOT / ".local"
LOGS, PIDS, MONGO_DATA = STATE / "logs", STATE / "run", STATE / "mongo"
BIN = Path(sys.executable).parent

POSTGRES = os.environ.get("LOCAL_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("LOCAL_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ = os.environ.get("LOCAL_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGO_PORT = int(os.environ.get("LOCAL_MONGO_PORT", "27017"))
SECANTUSDB = "secantusdb==0.7.0b3"
READY_TIMEOUT = 90


@dataclass
class Service:
    name: str
    port: int
    command: list[str]
    database: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "ENVIRONMENT": "development",
            "SERVICE_NAME": self.name,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "REDIS_URL": REDIS,
            "RABBITMQ_URL": RABBITMQ,
            "AUTH_URL": "http://127.0.0.1:3000",
            **self.env,
        }
        if self.database:
            env["DATABASE_URL"] = f"{POSTGRES}/{self.database}"
        return env


SERVICES = [
    Service(
        "auth", 3000, [str(BIN / "auth-service")], database="auth", env={"SEED_DEMO_USERS": "true"}
    ),
    Service("accounting", 3001, [str(BIN / "accounting-service")], database="accounting"),
    Service("model-simulator", 3005, [str(BIN / "model-simulator")]),
    Service(
        "chat",
        3002,
        [str(BIN / "chat-service")],
        env={
            # Retryable writes off for SecantusDB only: it spends ~3.5 ms more on each one
            # (measured: insert 4.2 -> 0.7 ms), and one local server has no failover to retry
            # across. Compose's real replica set keeps MongoDB's default (on).
            "MONGO_URL": f"mongodb://127.0.0.1:{MONGO_PORT}/?retryWrites=false",
            # Worker processes on port 3002 (one per core of this 2-core machine), each a
            # replica of its own; LOCAL_CHAT_WORKERS=1 for one process.
            "WORKERS": os.environ.get("LOCAL_CHAT_WORKERS", "2"),
            "ACCOUNTING_URL": "http://127.0.0.1:3001",
            "PROVISIONING_URL": "http://127.0.0.1:3004",
            "BEDROCK_ENDPOINT_URL": "http://127.0.0.1:3005",
            "OPENAI_BASE_URL": "http://127.0.0.1:3005/v1",
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:3005",
        },
    ),
    Service(
        "provisioning",
        3004,
        [str(BIN / "provisioning-service")],
        database="provisioning",
        env={"ACCOUNTING_URL": "http://127.0.0.1:3001", "CHAT_URL": "http://127.0.0.1:3002"},
    ),
    Service(
        "gateway",
        8080,
        [str(BIN / "gateway-service")],
        env={
            "ACCOUNTING_URL": "http://127.0.0.1:3001",
            "CHAT_URL": "http://127.0.0.1:3002",
            "PROVISIONING_URL": "http://127.0.0.1:3004",
            "OPTIONAL_UPSTREAMS": "",
            "CONSOLE_DIST_DIR": str(CONSOLE / "dist"),
        },
    ),
]


def log(message: str) -> None:
    print(f"stack: {message}", flush=True)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def port_answers(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_file(name: str) -> Path:
    return PIDS / f"{name}.pid"


def running_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text())
    except (OSError, ValueError):
        return None
    try:
        # A child of this very process (`e2e` starts and stops the stack) lingers as a zombie
        # until reaped, and a zombie still answers kill(pid, 0).
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return None
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    if _zombie(pid):  # killed, and its parent (not this process) has not reaped it yet
        return None
    return pid


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def build_console() -> None:
    """The gateway serves services/console/dist: build it (npm from the registry) if missing;
    `make bootstrap` rebuilds it when a source changed."""
    if (CONSOLE / "dist" / "index.html").is_file():
        return
    npm = _which("npm")
    if npm is None:
        sys.exit("stack: building the web console (services/console) needs Node.js 20.19+, npm")
    if not (CONSOLE / "node_modules").is_dir():
        log("installing the console's npm packages (npm ci)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, check=True)  # noqa: S603
    log("building the console (npm run build)")
    subprocess.run([npm, "run", "build"], cwd=CONSOLE, check=True)  # noqa: S603


def spawn(name: str, command: list[str], env: dict[str, str] | None = None) -> None:
    if name == "gateway":
        build_console()
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file(name).write_text(str(process.pid))


def start_mongo() -> None:
    if port_answers(MONGO_PORT):
        log(f"MongoDB-protocol server already answers on {MONGO_PORT}")
        return
    MONGO_DATA.mkdir(parents=True, exist_ok=True)
    uvx = [sys.executable, "-m", "uv", "tool", "run"] if not _which("uvx") else ["uvx"]
    spawn(
        "secantusdb",
        [
            *uvx,
            "--from",
            SECANTUSDB,
            "secantusd-py",
            "--host",
            "127.0.0.1",
            "--port",
            str(MONGO_PORT),
            "--storage-path",
            str(MONGO_DATA),
        ],
    )
    wait_until("secantusdb", lambda: port_answers(MONGO_PORT), LOGS / "secantusdb.log")


def _which(program: str) -> str | None:
    from shutil import which

    return which(program)


async def create_databases() -> None:
    conn = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        for service in SERVICES:
            if service.database and not await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", service.database
            ):
                await conn.execute(f'CREATE DATABASE "{service.database}"')
                log(f"created database {service.database}")
    finally:
        await conn.close()


def wait_until(name: str, ready, log_path: Path, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if name != "secantusdb" and running_pid(name) is None:
            break
        time.sleep(0.3)
    tail = log_path.read_text(errors="replace").splitlines()[-30:] if log_path.exists() else []
    sys.exit(f"stack: {name} did not become ready; last lines of {log_path}:\n" + "\n".join(tail))


def up() -> None:
    start_mongo()
    asyncio.run(create_databases())
    for service in SERVICES:
        if http_ok(f"{service.url}/api/health"):
            log(f"{service.name} already answers on {service.url}")
            continue
        spawn(service.name, service.command, service.environment())
        log(f"started {service.name}")
    for service in SERVICES:
        wait_until(
            service.name,
            lambda s=service: http_ok(f"{s.url}/api/health/ready"),
            LOGS / f"{service.name}.log",
        )
        log(f"{service.name} ready at {service.url} (docs {service.url}/docs)")
    log(f"logs in {LOGS}")


def down() -> None:
    for name in [s.name for s in reversed(SERVICES)] + ["secantusdb"]:
        stop_process(name)


def stop_process(name: str, grace: float = 15) -> None:
    """SIGTERM the process group this script started as ``name``, SIGKILL it after ``grace``
    seconds (at once when 0). Its pid is its group's: every process is spawned in a session of
    its own, so the group takes children along (SecantusDB's server under its uvx wrapper)."""
    pid = running_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return
    if grace > 0:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while running_pid(name) and time.monotonic() < deadline:
            time.sleep(0.2)
    if running_pid(name):
        os.killpg(pid, signal.SIGKILL)
        while running_pid(name):
            time.sleep(0.05)
    pid_file(name).unlink(missing_ok=True)
    log(f"{'stopped' if grace > 0 else 'killed'} {name}")


def service(name: str) -> Service:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    names = ", ".join([s.name for s in SERVICES] + ["secantusdb"])
    sys.exit(f"stack: no service {name!r} (one of {names})")


def start_named(names: list[str]) -> None:
    """Start the named services that do not answer (again, after a crash), then wait until
    each is ready."""
    chosen = [service(n) for n in names if n != "secantusdb"]
    if "secantusdb" in names:
        start_mongo()
    for one in chosen:
        if http_ok(f"{one.url}/api/health"):
            log(f"{one.name} already answers on {one.url}")
            continue
        spawn(one.name, one.command, one.environment())
        log(f"started {one.name}")
    for one in chosen:
        wait_until(
            one.name, lambda s=one: http_ok(f"{s.url}/api/health/ready"), LOGS / f"{one.name}.log"
        )
        log(f"{one.name} ready at {one.url}")


def stop_named(names: list[str], grace: float) -> None:
    for name in names:
        if name != "secantusdb":
            service(name)  # refuse an unknown name before stopping anything
    for name in names:
        stop_process(name, grace)


def status() -> bool:
    all_ready = True
    for service in SERVICES:
        ready = http_ok(f"{service.url}/api/health/ready")
        all_ready &= ready
        print(f"{service.name:14} {service.url:28} {'ready' if ready else 'DOWN'}")
    mongo = port_answers(MONGO_PORT)
    print(f"{'mongodb':14} {'127.0.0.1:' + str(MONGO_PORT):28} {'up' if mongo else 'DOWN'}")
    return all_ready and mongo


def local_infra() -> bool:
    """Whether the stack's PostgreSQL and Redis are this machine's, with the tools that stop
    and start them (deploy/local/ensure-infra.sh); SecantusDB always is."""
    local = all("@127.0.0.1:" in url or "//127.0.0.1:" in url for url in (POSTGRES, REDIS))
    tools = ("pg_ctlcluster", "redis-cli", "redis-server")
    return local and all(_which(t) for t in tools) and Path("/etc/postgresql").is_dir()


def e2e(pytest_args: list[str]) -> int:
    # Only what answered nothing is started here, and only that is stopped after: a service
    # that is up but not ready (restarting, say) belongs to whoever runs it.
    absent = [s.name for s in SERVICES if not http_ok(f"{s.url}/api/health")]
    if not port_answers(MONGO_PORT):
        absent.append("secantusdb")
    started = not all(http_ok(f"{s.url}/api/health/ready") for s in SERVICES)
    if started:
        log(f"the stack is not ready: starting {', '.join(absent) or 'nothing'} for the suite")
        up()
    try:
        # Test paths given: only those; none: the whole suite.
        named = any(
            not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in pytest_args
        )
        suite = [] if named else [str(ROOT / "tests-e2e")]
        command = [sys.executable, "-m", "pytest", *suite, *pytest_args]
        env = dict(os.environ)
        if _which("rabbitmqctl") and "@127.0.0.1:" in RABBITMQ:
            # The stack's broker is this machine's: the suite may stop and start it.
            env.setdefault("E2E_BROKER_CONTROL", "rabbitmqctl")
        if local_infra():
            # PostgreSQL, Redis and SecantusDB are this machine's: the fault tests may stop them.
            env.setdefault("E2E_INFRA_CONTROL", "local")
        return subprocess.call(command, cwd=ROOT, env=env)  # noqa: S603
    finally:
        if started:
            stop_named(absent, grace=15)


def main() -> None:
    action = sys.argv[1] if len(sys.argv) > 1 else "status"
    if action == "up":
        up()
    elif action == "down":
        down()
    elif action == "status":
        sys.exit(0 if status() else 1)
    elif action == "mongo":
        start_mongo()
    elif action in ("start", "stop", "kill", "restart") and len(sys.argv) > 2:
        names = sys.argv[2:]
        if action != "start":
            stop_named(names, grace=0 if action == "kill" else 15)
        if action in ("start", "restart"):
            start_named(names)
    elif action == "e2e":
        sys.exit(e2e(sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
