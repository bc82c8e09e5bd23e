"""The invariants of deploy/k8s, each a function of the rendered objects returning the problems
it finds (test_k8s.py runs each on every overlay, and on a broken copy to show it can fail)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from k8s_manifests import (
    GATEWAY_PORT,
    SERVICE_PORTS,
    Obj,
    container_env,
    containers,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    quantity,
    selects,
    workloads,
)

LIVENESS, READINESS = "/api/health", "/api/health/ready"
# The datastore connections: they carry passwords, so they come from Secrets only.
DATASTORE_URLS = {"DATABASE_URL", "REDIS_URL", "RABBITMQ_URL", "MONGO_URL"}
# Names that say "secret" (the services' own dev_secret marks catch the rest).
SECRET_NAME = re.compile(r"(^|_)(SECRET|PASSWORD|API_KEY|ACCESS_KEY|ENCRYPTION_KEY)(_|$)")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
# From outside the namespace only these may connect: the Ingress controller (to the gateway
# only) and Prometheus (to every service's http port, for /metrics).
INGRESS_NAMESPACE, MONITORING_NAMESPACE = "ingress-nginx", "monitoring"


def _name(o: Obj) -> str:
    name: str = o["metadata"]["name"]
    return name


def check_services(objects: list[Obj], expected: set[str]) -> list[str]:
    """One Deployment and one Service per service, the Service reaching its pods' http port."""
    problems = []
    deployments = {_name(d) for d in of_kind(objects, "Deployment")}
    if deployments != expected:
        problems.append(f"Deployments {sorted(deployments)}, expected {sorted(expected)}")
    for name in sorted(expected & deployments):
        deployment = named(objects, "Deployment", name)
        service = named(objects, "Service", name)
        assert deployment is not None
        if service is None:
            problems.append(f"{name}: no Service")
            continue
        if not selects(service["spec"].get("selector", {}), pod_labels(deployment)):
            problems.append(f"{name}: its Service does not select its pods")
        ports = {p.get("name") for c in containers(deployment) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            if port.get("targetPort") not in ports:
                problems.append(f"{name}: Service port {port['port']} targets no container port")
    return problems


def _probe_path(container: Obj, probe: str) -> str | None:
    path: str | None = container.get(probe, {}).get("httpGet", {}).get("path")
    return path


def check_probes(objects: list[Obj]) -> list[str]:
    """Liveness on /api/health and readiness on /api/health/ready, on the container's port."""
    problems = []
    for deployment in of_kind(objects, "Deployment"):
        for c in pod_spec(deployment)["containers"]:
            where = f"{_name(deployment)}/{c['name']}"
            if _probe_path(c, "livenessProbe") != LIVENESS:
                problems.append(f"{where}: liveness is not GET {LIVENESS}")
            if _probe_path(c, "readinessProbe") != READINESS:
                problems.append(f"{where}: readiness is not GET {READINESS}")
            ports = {p.get("name") for p in c.get("ports", [])}
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if port is not None and port not in ports:
                    problems.append(f"{where}: {probe} on port {port!r}, not a container port")
    return problems


def check_resources(objects: list[Obj]) -> list[str]:
    """Every container (Deployments and Jobs) requests and limits CPU and memory."""
    problems = []
    for workload in workloads(objects):
        for c in containers(workload):
            where = f"{workload['kind']} {_name(workload)}/{c['name']}"
            resources = c.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                if request is None or limit is None:
                    problems.append(f"{where}: no {resource} request and limit")
                elif quantity(request) > quantity(limit):
                    problems.append(f"{where}: {resource} request {request} above limit {limit}")
    return problems


def check_security(objects: list[Obj]) -> list[str]:
    """Non-root, no privilege escalation, read-only root, no capabilities, no host access."""
    problems = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        where = f"{workload['kind']} {_name(workload)}"
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append(f"{where}: not runAsNonRoot")
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            problems.append(f"{where}: shares a host namespace")
        for c in containers(workload):
            context = c.get("securityContext", {})
            if context.get("allowPrivilegeEscalation") is not False or context.get("privileged"):
                problems.append(f"{where}/{c['name']}: may escalate privileges")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}/{c['name']}: writable root filesystem")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}/{c['name']}: keeps capabilities")
            if any("hostPort" in p for p in c.get("ports", [])):
                problems.append(f"{where}/{c['name']}: binds a host port")
    return problems


def _policies_for(objects: list[Obj], labels: dict[str, str]) -> list[Obj]:
    return [
        p
        for p in of_kind(objects, "NetworkPolicy")
        if selects(p["spec"]["podSelector"].get("matchLabels", {}), labels)
        or p["spec"]["podSelector"] == {}
    ]


def _namespace_of(peer: Obj) -> str | None:
    labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
    namespace: str | None = labels.get("kubernetes.io/metadata.name")
    return namespace


def check_exposure(objects: list[Obj]) -> list[str]:
    """Nothing but the gateway reachable from outside: ClusterIP Services, one Ingress backend,
    a default deny, and no policy admitting anyone else from outside the namespace."""
    problems = []
    for service in of_kind(objects, "Service"):
        if service["spec"].get("type", "ClusterIP") not in {"ClusterIP", "ExternalName"}:
            problems.append(f"Service {_name(service)} is {service['spec']['type']}")
    for ingress in of_kind(objects, "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"].get("service", {}).get("name")
                if backend != "gateway":
                    problems.append(f"Ingress {_name(ingress)} leads to {backend!r}")
        if "defaultBackend" in ingress["spec"]:
            problems.append(f"Ingress {_name(ingress)} has a default backend")
    if not any(
        p["spec"]["podSelector"] == {}
        and "Ingress" in p["spec"]["policyTypes"]
        and not p["spec"].get("ingress")
        for p in of_kind(objects, "NetworkPolicy")
    ):
        problems.append("no default-deny ingress NetworkPolicy")
    for policy in of_kind(objects, "NetworkPolicy"):
        selected = policy["spec"]["podSelector"].get("matchLabels", {})
        for rule in policy["spec"].get("ingress", []):
            if not rule.get("from"):
                problems.append(f"NetworkPolicy {_name(policy)} admits anyone")
            for peer in rule.get("from", []):
                namespace = _namespace_of(peer)
                if "ipBlock" in peer:
                    problems.append(f"NetworkPolicy {_name(policy)} admits an address block")
                elif "namespaceSelector" not in peer:
                    continue
                elif namespace == INGRESS_NAMESPACE:
                    if selected != {"app.kubernetes.io/name": "gateway"}:
                        problems.append(f"NetworkPolicy {_name(policy)}: Ingress to {selected}")
                elif namespace == MONITORING_NAMESPACE:
                    if [p.get("port") for p in rule.get("ports", [])] != ["http"]:
                        problems.append(f"NetworkPolicy {_name(policy)}: monitoring past http")
                else:
                    problems.append(f"NetworkPolicy {_name(policy)} admits namespace {namespace}")
    return problems


def _callers_allowed(objects: list[Obj], target: Obj) -> set[str]:
    callers = set()
    for policy in _policies_for(objects, pod_labels(target)):
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "namespaceSelector" not in peer and "podSelector" in peer:
                    labels = peer["podSelector"].get("matchLabels", {})
                    callers.add(labels.get("app.kubernetes.io/name", repr(labels)))
    return callers


def _callers_wired(objects: list[Obj], target: str) -> set[str]:
    callers = set()
    for deployment in of_kind(objects, "Deployment"):
        for c in containers(deployment):
            for var in container_env(objects, c).values():
                host = urlsplit(var.value).hostname if var.value else None
                if host == target and _name(deployment) != target:
                    callers.add(_name(deployment))
    return callers


def check_callers(objects: list[Obj], peers_in_code: dict[str, set[str]]) -> list[str]:
    """Each service admits exactly the services wired to call it (a ``<NAME>_URL`` naming it),
    and every peer a service's settings know of is wired to the peer's Service."""
    problems = []
    for deployment in of_kind(objects, "Deployment"):
        target = _name(deployment)
        allowed, wired = _callers_allowed(objects, deployment), _callers_wired(objects, target)
        if allowed != wired:
            problems.append(f"{target}: policies admit {sorted(allowed)}, wired: {sorted(wired)}")
    ports = {**SERVICE_PORTS, "gateway": GATEWAY_PORT}
    for service, peers in peers_in_code.items():
        deployment = named(objects, "Deployment", service)
        if deployment is None:
            continue
        env = container_env(objects, pod_spec(deployment)["containers"][0])
        for peer in sorted(peers):
            var, url = f"{peer.upper()}_URL", f"http://{peer}:{ports[peer]}"
            if var not in env or env[var].value != url:
                problems.append(f"{service}: {var} is not {url}")
    return problems
