"""More invariants of deploy/k8s (as in k8s_checks.py): secrets, disruption and scaling,
migrations, the Ingress's streaming, the queue type and monitoring."""

from __future__ import annotations

from k8s_checks import CREDENTIALS_IN_URL, DATASTORE_URLS, SECRET_NAME
from k8s_manifests import (
    Obj,
    config_map,
    container_env,
    containers,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    selects,
    workloads,
)

# Scaled by a HorizontalPodAutoscaler (the issue: chat and gateway).
AUTOSCALED = {"chat", "gateway"}
# Settings whose names look secret but hold none.
NOT_SECRET = {"JWT_PRIVATE_KEY_FILE"}


def _name(o: Obj) -> str:
    name: str = o["metadata"]["name"]
    return name


def _secret_mounts(workload: Obj, container: Obj) -> list[str]:
    secret_volumes = {v["name"] for v in pod_spec(workload).get("volumes", []) if "secret" in v}
    return [
        m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in secret_volumes
    ]


def check_secrets(objects: list[Obj], dev_secrets: dict[str, set[str]]) -> list[str]:
    """No Secret is rendered, no value holds a credential, every datastore URL and every
    setting a service marks as a secret (``dev_secret``) is read from a Secret (a key file:
    from a mounted Secret)."""
    problems = [f"Secret {_name(s)} is committed" for s in of_kind(objects, "Secret")]
    for cm in of_kind(objects, "ConfigMap"):
        for key, value in cm.get("data", {}).items():
            if CREDENTIALS_IN_URL.search(value):
                problems.append(f"ConfigMap {_name(cm)}: {key} holds credentials")
            if SECRET_NAME.search(key) and key not in NOT_SECRET:
                problems.append(f"ConfigMap {_name(cm)}: {key} looks like a secret")
    for workload in workloads(objects):
        for c in containers(workload):
            where = f"{workload['kind']} {_name(workload)}/{c['name']}"
            env = container_env(objects, c)
            for var in env.values():
                if var.source == "value" and var.value and CREDENTIALS_IN_URL.search(var.value):
                    problems.append(f"{where}: {var.name} holds credentials")
            must = {n for n in env if n in DATASTORE_URLS or SECRET_NAME.search(n)} - NOT_SECRET
            must |= dev_secrets.get(_name(workload), set())
            for name in sorted(must):
                var = env.get(name)
                if name.endswith("_FILE"):
                    path = var.value if var else None
                    if not path or not any(
                        path.startswith(f"{m}/") for m in _secret_mounts(workload, c)
                    ):
                        problems.append(f"{where}: {name} is not a file of a mounted Secret")
                elif var is None or var.secret is None:
                    problems.append(f"{where}: {name} is not read from a Secret")
    return problems


def secret_keys(objects: list[Obj]) -> set[tuple[str, str]]:
    """Every (Secret, key) the objects read: env, mounted volumes, the Ingress's TLS."""
    keys = set()
    for workload in workloads(objects):
        for c in containers(workload):
            keys |= {v.secret for v in container_env(objects, c).values() if v.secret}
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                keys |= {(name, item["key"]) for item in volume["secret"].get("items", [])}
    for ingress in of_kind(objects, "Ingress"):
        keys |= {(tls["secretName"], "tls.crt") for tls in ingress["spec"].get("tls", [])}
    return keys


def check_scaling(objects: list[Obj]) -> list[str]:
    """A PodDisruptionBudget for every Deployment; an HPA for chat and the gateway only, whose
    Deployments leave the replica count to it."""
    problems = []
    budgets = of_kind(objects, "PodDisruptionBudget")
    for deployment in of_kind(objects, "Deployment"):
        labels = pod_labels(deployment)
        if not any(selects(b["spec"]["selector"].get("matchLabels", {}), labels) for b in budgets):
            problems.append(f"{_name(deployment)}: no PodDisruptionBudget")
    scaled = {}
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        scaled[target["name"]] = hpa
        if target["kind"] != "Deployment" or named(objects, "Deployment", target["name"]) is None:
            problems.append(f"HPA {_name(hpa)} scales no Deployment of these")
        if hpa["spec"]["minReplicas"] > hpa["spec"]["maxReplicas"]:
            problems.append(f"HPA {_name(hpa)}: minReplicas above maxReplicas")
    if set(scaled) != AUTOSCALED:
        problems.append(f"HPAs scale {sorted(scaled)}, expected {sorted(AUTOSCALED)}")
    for name in sorted(AUTOSCALED & set(scaled)):
        deployment = named(objects, "Deployment", name)
        if deployment is not None and "replicas" in deployment["spec"]:
            problems.append(f"{name}: sets replicas, which its HPA owns")
    return problems


def check_migrations(objects: list[Obj], scripts: dict[str, set[str]]) -> list[str]:
    """A Job per service with a database, running its ``<service>-migrate`` console script on
    the same image and database as the service."""
    problems = []
    for deployment in of_kind(objects, "Deployment"):
        service = _name(deployment)
        app = pod_spec(deployment)["containers"][0]
        database = container_env(objects, app).get("DATABASE_URL")
        if database is None:
            continue
        job = named(objects, "Job", f"{service}-migrate")
        if job is None:
            problems.append(f"{service}: no migration Job")
            continue
        migrate = pod_spec(job)["containers"][0]
        command = migrate.get("command", [])
        if command != [f"{service}-migrate"] or command[0] not in scripts.get(service, set()):
            problems.append(f"{service}-migrate runs {command}, not {service}'s migrate script")
        if migrate["image"] != app["image"]:
            problems.append(f"{service}-migrate runs {migrate['image']}, not {app['image']}")
        if container_env(objects, migrate).get("DATABASE_URL") != database:
            problems.append(f"{service}-migrate migrates another database")
    return problems


def check_streaming_ingress(objects: list[Obj], min_idle_seconds: float) -> list[str]:
    """One Ingress, to the gateway, that does not buffer responses and lets a stream idle as
    long as an observed answer may last."""
    ingresses = of_kind(objects, "Ingress")
    if len(ingresses) != 1:
        return [f"{len(ingresses)} Ingresses, expected 1"]
    annotations = ingresses[0]["metadata"].get("annotations", {})
    problems = []
    if annotations.get("nginx.ingress.kubernetes.io/proxy-buffering") != "off":
        problems.append("the Ingress buffers responses (SSE would arrive in lumps)")
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        value = annotations.get(f"nginx.ingress.kubernetes.io/{timeout}", "60")
        if float(value) < min_idle_seconds:
            problems.append(f"the Ingress's {timeout} {value} s is below {min_idle_seconds} s")
    return problems


def check_queue_type(objects: list[Obj], expected: str) -> list[str]:
    found = config_map(objects, "platform-config").get("RABBITMQ_QUEUE_TYPE")
    return [] if found == expected else [f"RABBITMQ_QUEUE_TYPE is {found!r}, not {expected!r}"]


def check_monitoring(objects: list[Obj]) -> list[str]:
    """A ServiceMonitor scraping /metrics on the http port of every service's Service."""
    monitors = of_kind(objects, "ServiceMonitor")
    if len(monitors) != 1:
        return [f"{len(monitors)} ServiceMonitors, expected 1"]
    spec = monitors[0]["spec"]
    problems = []
    if {(e.get("port"), e.get("path")) for e in spec["endpoints"]} != {("http", "/metrics")}:
        problems.append("the ServiceMonitor does not scrape http /metrics")
    selector = spec["selector"].get("matchLabels", {})
    for deployment in of_kind(objects, "Deployment"):
        service = named(objects, "Service", _name(deployment))
        if service is None or not selects(selector, service["metadata"].get("labels", {})):
            problems.append(f"{_name(deployment)}: its Service is not scraped")
    return problems
