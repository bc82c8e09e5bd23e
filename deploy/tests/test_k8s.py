"""Static checks of the Kubernetes deployment (deploy/k8s), without a cluster.

Every overlay is rendered with ``kubectl kustomize`` (kubectl from the dev dependencies), every
object is validated against the Kubernetes schema with ``kubernetes-validate`` (its bundled
schemas: no network), and the invariants of k8s_checks.py and k8s_operations.py are asserted on
each overlay. What the services need is read from their code (settings classes, console
scripts), so a new peer URL or secret setting that the manifests miss fails here. Each check is
also run on a broken copy, to show that it can fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from k8s_checks import (
    check_callers,
    check_exposure,
    check_probes,
    check_resources,
    check_security,
    check_services,
)
from k8s_code import console_scripts, dev_secrets_in_code, observe_max_seconds, peers_in_code
from k8s_manifests import (
    EXPECTED_SERVICES,
    K8S_DIR,
    OVERLAYS,
    SIMULATOR,
    Obj,
    named,
    of_kind,
    pod_spec,
    render,
)
from k8s_operations import (
    check_migrations,
    check_monitoring,
    check_queue_type,
    check_scaling,
    check_secrets,
    check_streaming_ingress,
    secret_keys,
)

# The oldest Kubernetes the manifests are written for (README: autoscaling/v2, policy/v1 PDBs,
# Job TTLs, matchLabelKeys in topology spread constraints).
KUBERNETES_VERSION = "1.30"
# Custom resources: no schema ships with kubernetes-validate; check_monitoring reads them.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
QUEUE_TYPE = {"dev": "classic", "production": "quorum"}


CHECKS: dict[str, Callable[[str, list[Obj]], list[str]]] = {
    "services": lambda overlay, objs: check_services(objs, EXPECTED_SERVICES[overlay]),
    "probes": lambda overlay, objs: check_probes(objs),
    "resources": lambda overlay, objs: check_resources(objs),
    "security": lambda overlay, objs: check_security(objs),
    "exposure": lambda overlay, objs: check_exposure(objs),
    "callers": lambda overlay, objs: check_callers(objs, peers_in_code()),
    "secrets": lambda overlay, objs: check_secrets(objs, dev_secrets_in_code()),
    "scaling": lambda overlay, objs: check_scaling(objs),
    "migrations": lambda overlay, objs: check_migrations(objs, console_scripts()),
    "streaming": lambda overlay, objs: check_streaming_ingress(objs, observe_max_seconds()),
    "queue type": lambda overlay, objs: check_queue_type(objs, QUEUE_TYPE[overlay]),
    "monitoring": lambda overlay, objs: check_monitoring(objs),
}


def test_the_base_renders_too() -> None:
    assert {o["kind"] for o in render(K8S_DIR / "base")} >= {"Deployment", "Ingress"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_matches_the_kubernetes_schema(
    rendered: dict[str, list[Obj]], overlay: str
) -> None:
    """Any kind without a schema there fails too (SchemaNotFoundError), but the known custom
    resources."""
    for obj in rendered[overlay]:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {obj['kind']} {obj['metadata']['name']}: {exc.message}")


def test_the_schema_check_refuses_a_broken_object(rendered: dict[str, list[Obj]]) -> None:
    deployment = copy.deepcopy(named(rendered["production"], "Deployment", "auth"))
    assert deployment is not None
    pod_spec(deployment)["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(
            {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "x"}},
            KUBERNETES_VERSION,
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("check", CHECKS)
def test_invariant(rendered: dict[str, list[Obj]], overlay: str, check: str) -> None:
    assert CHECKS[check](overlay, rendered[overlay]) == []


def test_the_model_simulator_is_dev_only(rendered: dict[str, list[Obj]]) -> None:
    assert named(rendered["dev"], "Deployment", SIMULATOR) is not None
    production = rendered["production"]
    assert named(production, "Deployment", SIMULATOR) is None
    assert not any(SIMULATOR in str(cm.get("data")) for cm in of_kind(production, "ConfigMap"))


def test_every_secret_read_is_documented(rendered: dict[str, list[Obj]]) -> None:
    """deploy/k8s/README.md says how to create each Secret and key the manifests read."""
    readme = (K8S_DIR / "README.md").read_text()
    keys = set().union(*(secret_keys(objs) for objs in rendered.values()))
    for secret, key in sorted(keys):
        assert re.search(rf"create secret (generic|tls) {re.escape(secret)}\b", readme), secret
        if key != "tls.crt":
            assert re.search(rf"--from-(literal|file)={re.escape(key)}=", readme), (secret, key)


# Each check again, on a production render broken the way that check is there to catch.
def _drop_deployment_probe(objs: list[Obj]) -> None:
    del pod_spec(_deployment(objs, "accounting"))["containers"][0]["readinessProbe"]


def _deployment(objs: list[Obj], name: str) -> Obj:
    found = named(objs, "Deployment", name)
    assert found is not None
    return found


def _env(objs: list[Obj], name: str) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = pod_spec(_deployment(objs, name))["containers"][0]["env"]
    return env


def _first(objs: list[Obj], kind: str) -> Obj:
    return of_kind(objs, kind)[0]


def _policy(objs: list[Obj], name: str) -> Obj:
    found = named(objs, "NetworkPolicy", name)
    assert found is not None
    return found


BREAKAGES: dict[str, Callable[[list[Obj]], None]] = {
    "services": lambda objs: objs.remove(named(objs, "Service", "chat")),
    "probes": _drop_deployment_probe,
    "resources": lambda objs: pod_spec(_first(objs, "Job"))["containers"][0]["resources"].pop(
        "limits"
    ),
    "security": lambda objs: pod_spec(_deployment(objs, "gateway"))["containers"][0][
        "securityContext"
    ].update(readOnlyRootFilesystem=False),
    "exposure": lambda objs: named(objs, "Service", "auth")["spec"].update(type="LoadBalancer"),
    "callers": lambda objs: _policy(objs, "accounting-callers")["spec"]["ingress"][0][
        "from"
    ].append({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "auth"}}}),
    "secrets": lambda objs: _env(objs, "chat").append(
        {"name": "OPENAI_API_KEY", "value": "sk-live-123"}
    ),
    "scaling": lambda objs: _deployment(objs, "chat")["spec"].update(replicas=3),
    "migrations": lambda objs: objs.remove(named(objs, "Job", "accounting-migrate")),
    "streaming": lambda objs: _first(objs, "Ingress")["metadata"]["annotations"].pop(
        "nginx.ingress.kubernetes.io/proxy-buffering"
    ),
    "queue type": lambda objs: objs.remove(
        next(cm for cm in of_kind(objs, "ConfigMap") if "RABBITMQ_QUEUE_TYPE" in cm["data"])
    ),
    "monitoring": lambda objs: _first(objs, "ServiceMonitor")["spec"]["endpoints"][0].update(
        path="/api/metrics"
    ),
}


@pytest.mark.parametrize("check", CHECKS)
def test_each_check_can_fail(rendered: dict[str, list[Obj]], check: str) -> None:
    broken = copy.deepcopy(rendered["production"])
    BREAKAGES[check](broken)
    assert CHECKS[check]("production", broken) != []


def test_more_ways_to_expose_a_service_are_caught(rendered: dict[str, list[Obj]]) -> None:
    for breakage in (
        lambda objs: _first(objs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"][
            "service"
        ].update(name="chat"),
        lambda objs: _policy(objs, "chat-callers")["spec"]["ingress"][0]["from"].append(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
        ),
        lambda objs: _policy(objs, "chat-callers")["spec"]["ingress"].append({"ports": []}),
        lambda objs: objs.remove(_policy(objs, "default-deny-ingress")),
    ):
        broken = copy.deepcopy(rendered["production"])
        breakage(broken)
        assert check_exposure(broken) != []


def test_a_datastore_url_in_a_config_map_is_caught(rendered: dict[str, list[Obj]]) -> None:
    broken = copy.deepcopy(rendered["production"])
    env = _env(broken, "accounting")
    env[:] = [e for e in env if e["name"] != "DATABASE_URL"]
    env.append({"name": "DATABASE_URL", "value": "postgresql://platform@postgres:5432/accounting"})
    assert any("DATABASE_URL is not read from a Secret" in p for p in check_secrets(broken, {}))


def test_a_committed_secret_is_caught(rendered: dict[str, list[Obj]]) -> None:
    broken = copy.deepcopy(rendered["production"])
    broken.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "redis"}})
    assert check_secrets(broken, {}) == ["Secret redis is committed"]
