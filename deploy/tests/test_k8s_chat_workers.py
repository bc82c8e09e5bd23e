"""Chat's WORKERS in the rendered manifests: past one, no more worker processes than cores it
requests, and the workers' shared metrics directory on a writable volume of its own (the root
filesystem is read-only, and a worker that cannot write its metrics files does not start)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from k8s_manifests import OVERLAYS, Obj, container_env, named, pod_spec, quantity


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_chats_workers_fit_its_cpu_and_share_metrics_on_a_volume(
    rendered: dict[str, list[Obj]], overlay: str
) -> None:
    objs = rendered[overlay]
    deployment = named(objs, "Deployment", "chat")
    assert deployment is not None
    spec = pod_spec(deployment)
    container = spec["containers"][0]
    env = {name: var.value for name, var in container_env(objs, container).items()}
    workers = int(env.get("WORKERS") or 1)
    assert workers == 1 or workers <= quantity(container["resources"]["requests"]["cpu"])
    if workers == 1:
        return
    metrics_dir = PurePosixPath(env["METRICS_DIR"] or "/tmp")  # unset: a temporary directory
    emptydirs = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    mounts = [
        PurePosixPath(m["mountPath"])
        for m in container.get("volumeMounts", [])
        if m["name"] in emptydirs and not m.get("readOnly")
    ]
    assert any(metrics_dir == m or m in metrics_dir.parents for m in mounts), (
        f"METRICS_DIR {metrics_dir} is not on a writable emptyDir of chat's pod"
    )
