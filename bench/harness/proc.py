"""The local stack's processes, and the CPU and memory they use, from /proc."""

import contextlib
import os
import time

from .settings import RUN_DIR

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SATURATED = 0.9  # bench CPU (cores) from which the client is the bottleneck
ORDER = ["chat", "model-simulator", "accounting", "auth", "mongodb", "redis", "postgres"]


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def rss_kib(pid: int) -> int:
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            found.extend(int(c) for c in (_read(f"/proc/{pid}/task/{task}/children") or "").split())
    return found


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children(current))
    return found


def service_pid(name: str) -> int | None:
    """The pid in .local/run/<name>.pid, when that process is alive."""
    text = (_read(str(RUN_DIR / f"{name}.pid")) or "").strip()
    return int(text) if text.isdigit() and os.path.isdir(f"/proc/{text}") else None


def stack_processes() -> dict[str, list[int]]:
    """The local stack's processes by name: the services from .local/run/*.pid (with their
    children: the MongoDB pid file names the uvx wrapper), Redis, PostgreSQL and RabbitMQ."""
    named: dict[str, list[int]] = {}
    for pid_file in sorted(RUN_DIR.glob("*.pid")):
        pid = service_pid(pid_file.stem)
        if pid is not None:
            name = "mongodb" if pid_file.stem == "secantusdb" else pid_file.stem
            named[name] = descendants(pid)
    by_command = {"redis-server": "redis", "postgres": "postgres", "beam.smp": "rabbitmq"}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            command = (_read(f"/proc/{entry}/comm") or "").strip()
            if command in by_command:
                named.setdefault(by_command[command], []).append(int(entry))
    return named


def stack_rss() -> dict[str, int]:
    """KiB resident per process of the local stack's pid files, with their children
    (SecantusDB's server is a child of the uvx wrapper its pid file names)."""
    found = {}
    for pid_file in sorted(RUN_DIR.glob("*.pid")):
        pid = service_pid(pid_file.stem)
        if pid is not None:
            found[pid_file.stem] = sum(rss_kib(p) for p in descendants(pid))
    return found


def machine_cpu_seconds() -> float:
    """CPU time all processes used (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in (_read("/proc/stat") or "cpu 0").splitlines()[0].split()[1:]]
    idle = sum(fields[3:5])
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


class CpuMeter:
    """CPU time of the stack's processes and of this one over a stretch of wall time."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self._processes = processes
        self._started = 0.0
        self._before: dict[str, float] = {}
        self.elapsed = 0.0  # wall seconds from start to stop

    def _now(self) -> dict[str, float]:
        usage = {name: sum(cpu_seconds(p) for p in pids) for name, pids in self._processes.items()}
        usage["bench"] = time.process_time()
        usage["machine"] = machine_cpu_seconds()
        return usage

    def start(self) -> "CpuMeter":
        self._before, self._started = self._now(), time.perf_counter()
        return self

    def stop(self) -> dict[str, float]:
        """Cores each process used (1.00 = one core busy the whole time), this bench's as
        "bench" and the rest of the machine's as "other"."""
        after, self.elapsed = self._now(), time.perf_counter() - self._started
        cores = {name: (after[name] - self._before.get(name, 0.0)) / self.elapsed for name in after}
        # Whatever else ran on the machine meanwhile (another test run, say).
        cores["other"] = max(0.0, cores.pop("machine") - sum(cores.values()))
        return cores


def print_cpu(cores: dict[str, float]) -> None:
    mine = [*ORDER, "bench", "other"]
    names = [n for n in ORDER if n in cores] + [n for n in cores if n not in mine]
    parts = [f"{n} {cores[n]:.2f}" for n in names if cores[n] >= 0.005]
    print(
        f"  CPU, cores: {'  '.join(parts)}   this bench {cores['bench']:.2f}   "
        f"other processes {cores['other']:.2f}"
    )
    if cores["bench"] >= SATURATED:
        print(
            "  note: the bench client itself kept a core busy; figures above are bounded by it "
            "as much as by the platform"
        )
