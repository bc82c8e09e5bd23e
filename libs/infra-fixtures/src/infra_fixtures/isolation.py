"""Names that keep concurrent test runs and xdist workers apart."""

import os
import uuid

RUN_ID = uuid.uuid4().hex[:8]


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def worker_index() -> int:
    return int(worker_id().removeprefix("gw") or 0)


def unique_name(prefix: str) -> str:
    """A name unique to this run and worker, safe as a database or queue name."""
    return f"{prefix}_{RUN_ID}_{worker_id()}"
