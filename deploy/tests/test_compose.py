"""Static checks of the container deployment and its monitoring, without a Docker engine.

docker-compose.yml is interpolated the way compose does it (compose_interpolation.py says why
that one is our own), then parsed and validated with the ``compose_spec`` package, which refuses
unknown keys, wrong types and undefined secrets; the one image recipe,
deploy/docker/service.Dockerfile, is read with ``dockerfile-parse`` and checked against each
service's build arguments. The checks below are small functions returning a list
of problems, so each one is also run on a broken input to show that it can fail.
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_interpolation import MissingVariableError, interpolate, interpolate_tree
from compose_spec import PyOptions
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
OVERRIDE_FILE = ROOT / "docker-compose.override.yml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
PROMETHEUS_FILE = ROOT / "prometheus" / "prometheus.yml"
DATASOURCES_DIR = ROOT / "grafana" / "provisioning" / "datasources"
DASHBOARD_PROVIDERS_DIR = ROOT / "grafana" / "provisioning" / "dashboards"
DASHBOARDS_DIR = ROOT / "grafana" / "dashboards"
POSTGRES_INIT_DIR = ROOT / "deploy" / "postgres" / "init"
SERVICE_DOCKERFILE = "deploy/docker/service.Dockerfile"

# What every service exports (service-kit): a counter and a histogram.
HTTP_METRICS = frozenset(
    {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_sum",
        "http_request_duration_seconds_count",
    }
)


def _histogram(name: str) -> set[str]:
    return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}


# The accounting service's own series (accounting/metrics.py); test_accounting_metrics_exist
# checks them against that module when it is importable.
ACCOUNTING_METRICS = frozenset(
    {
        "accounting_credits_allocated_total",
        "accounting_credits_charged_total",
        "accounting_credits_refunded_total",
        "accounting_credits_expired_total",
        "accounting_open_holds",
        "accounting_held_credits",
        "accounting_events_processed_total",
    }
    | _histogram("accounting_reservation_seconds")
    | _histogram("accounting_consumer_lag_seconds")
)

# The chat service's own series (chat/metrics.py) and the model simulator's
# (model_simulator/metrics.py); test_service_metrics_exist checks them the same way.
CHAT_METRICS = frozenset(
    {
        "chat_tokens_streamed_total",
        "chat_active_streams",
        "chat_observers",
        "chat_bedrock_streams",
        "chat_provider_errors_total",
        "chat_streams_finished_total",
        "chat_model_status",
    }
    | _histogram("chat_time_to_first_token_seconds")
)
MODEL_SIMULATOR_METRICS = frozenset(
    {
        "model_simulator_responses_in_flight",
        "model_simulator_tokens_generated_total",
    }
)

# The gateway's own series (gateway/metrics.py).
GATEWAY_METRICS = frozenset(
    {
        "gateway_upstream_requests_total",
        "gateway_api_key_exchanges_total",
        "gateway_rate_limited_total",
    }
    | _histogram("gateway_upstream_seconds")
)

# Provisioning's own series (provisioning/metrics.py).
PROVISIONING_METRICS = frozenset(
    {
        "provisioning_audit_entries_total",
        "provisioning_plan_grants_total",
        "provisioning_pending_grants",
        "provisioning_events_processed_total",
    }
)

# Every series name a dashboard may select.
EXPORTED_METRICS = (
    HTTP_METRICS
    | ACCOUNTING_METRICS
    | CHAT_METRICS
    | MODEL_SIMULATOR_METRICS
    | GATEWAY_METRICS
    | PROVISIONING_METRICS
)


def _strings(node: Any, path: str = ""):
    """(dotted path, value) for every string in a parsed YAML/JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")


def variables_in(compose_text: str) -> dict[str, bool]:
    """Every ``${VAR...}`` the compose file reads -> whether some reference requires it.

    Only values count (compose ignores comments and never interpolates keys)."""
    found: dict[str, bool] = {}
    for _, value in _strings(yaml.safe_load(compose_text)):
        for match in _REFERENCE.finditer(value.replace("$$", "")):
            required = (match.group("op") or "").endswith("?")
            found[match.group("name")] = found.get(match.group("name"), False) or required
    return found


def dummy_env(compose_text: str) -> dict[str, str]:
    """A value for each required variable; optional ones keep their compose defaults."""
    return {
        name: f"dummy-{name.lower().replace('_', '-')}"
        for name, required in variables_in(compose_text).items()
        if required
    }


def load_compose(text: str, env: dict[str, str]) -> dict[str, Any]:
    """Interpolate and validate a compose file; return compose_spec's normalised dict.

    Raises ``MissingVariableError`` for an unset required variable and ``ValueError`` when
    compose_spec rejects the file (unknown key, wrong type, undefined secret...)."""
    raw = yaml.safe_load(text)  # resolves anchors and `<<` merge keys, as compose does
    resolved = interpolate_tree(raw, env)
    compose = PyOptions(apply_merge=True).from_yaml(yaml.safe_dump(resolved, sort_keys=False))
    compose.validate()
    return compose.to_dict()


# ---------------------------------------------------------------------------------------------
# Compose helpers
# ---------------------------------------------------------------------------------------------


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in env)
        return {key: value for key, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def dockerfile_of(service: dict[str, Any], root: Path) -> Path | None:
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        build = {"context": build}
    context = root / build.get("context", ".")
    return context / build.get("dockerfile", "Dockerfile")


def build_args(service: dict[str, Any]) -> dict[str, str]:
    build = service.get("build")
    if not isinstance(build, dict):
        return {}
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(item.split("=", 1) for item in args)
    return {key: str(value) for key, value in args.items()}


def app_services(services: dict[str, Any], root: Path) -> dict[str, Any]:
    """Services whose image is built from one of the workspace's services/* packages."""
    return {
        name: service
        for name, service in services.items()
        if (package := build_args(service).get("SERVICE"))
        and (root / "services" / package).is_dir()
    }


def container_port(service: dict[str, Any]) -> int | None:
    """The port an app listens on: its PORT variable, else the first published port."""
    port = environment_of(service).get("PORT")
    if port:
        return int(port)
    for mapping in service.get("ports") or []:
        target = mapping.get("target") if isinstance(mapping, dict) else mapping.split(":")[-1]
        return int(str(target).split("/")[0])
    return None


def parsed_dockerfile(text: str, args: dict[str, str] | None = None) -> DockerfileParser:
    """``text`` parsed by dockerfile-parse, with ``args`` as the build arguments."""
    return DockerfileParser(fileobj=io.BytesIO(text.encode()), build_args=args or {})


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuations joined and comments dropped."""
    return [
        (item["instruction"], item["value"])
        for item in parsed_dockerfile(text).structure
        if item["instruction"] != "COMMENT"
    ]


# ---------------------------------------------------------------------------------------------
# The checks: each returns a list of problems, empty when all is well
# ---------------------------------------------------------------------------------------------


def _has_compose_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    if not check or check.get("disable"):
        return False
    test = check.get("test")
    if isinstance(test, str):
        return bool(test.strip())
    return bool(test) and test[0] != "NONE" and len(test) > 1


def check_healthchecks(services: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for name, service in services.items():
        if _has_compose_healthcheck(service):
            continue
        dockerfile = dockerfile_of(service, root)
        if dockerfile is not None and dockerfile.is_file():
            checks = [a for i, a in parse_dockerfile(dockerfile.read_text()) if i == "HEALTHCHECK"]
            if checks and checks[-1].upper() != "NONE":
                continue
        problems.append(f"service {name!r} has no healthcheck")
    return problems


def check_dockerfile(text: str, port: int | None) -> list[str]:
    """A service image: multi-stage, frozen uv sync, non-root, healthcheck, CMD, its port."""
    instructions = parse_dockerfile(text)
    problems = []
    stages = [args for instr, args in instructions if instr == "FROM"]
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    runs = " ".join(args for instr, args in instructions if instr == "RUN")
    if "uv sync" not in runs or "--frozen" not in runs:
        problems.append("dependencies are not installed with `uv sync --frozen` (the root uv.lock)")
    final = instructions[max(i for i, (instr, _) in enumerate(instructions) if instr == "FROM") :]
    users = [args for instr, args in final if instr == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the runtime stage does not switch to a non-root USER")
    checks = [args for instr, args in final if instr == "HEALTHCHECK"]
    if not checks or checks[-1].upper() == "NONE":
        problems.append("the runtime stage has no HEALTHCHECK")
    if not any(instr == "CMD" for instr, _ in final):
        problems.append("the runtime stage has no CMD")
    exposed = {
        port_spec.split("/")[0]
        for instr, args in final
        if instr == "EXPOSE"
        for port_spec in args.split()
    }
    if "${PORT}" in exposed or "$PORT" in exposed:  # the one recipe exposes its PORT argument
        exposed.add(str(port))
    if port is not None and str(port) not in exposed:
        problems.append(f"EXPOSE does not include port {port} (exposes {sorted(exposed)})")
    return problems


def check_build_args(text: str, args: dict[str, str], port: int | None, root: Path) -> list[str]:
    """A service's build arguments agree with the workspace and its compose settings:
    ``SERVICE`` is the package in services/<SERVICE>, ``COMMAND`` one of its console scripts,
    ``PORT`` the port the service listens on; and the recipe carries each into the image (the
    runtime's ``PORT``, ``SERVICE_NAME`` and ``SERVICE_COMMAND``)."""
    name = args.get("SERVICE", "")
    pyproject = root / "services" / name / "pyproject.toml"
    if not name or not pyproject.is_file():
        return [f"build arg SERVICE={name}: services/{name}/pyproject.toml does not exist"]
    project = tomllib.loads(pyproject.read_text())["project"]
    problems = []
    if project["name"] != name:  # `uv sync --package` takes the package name
        problems.append(f"SERVICE={name}, but services/{name} is package {project['name']!r}")
    scripts = sorted(project.get("scripts") or {})
    if args.get("COMMAND") not in scripts:
        problems.append(
            f"COMMAND={args.get('COMMAND')} is not a console script of {name} {scripts}"
        )
    if port is not None and args.get("PORT") != str(port):
        problems.append(f"build arg PORT={args.get('PORT')}, but the service listens on {port}")
    envs = parsed_dockerfile(text, args).envs
    image = {key: envs.get(key) for key in ("PORT", "SERVICE_NAME", "SERVICE_COMMAND")}
    wanted = {
        "PORT": args.get("PORT"),
        "SERVICE_NAME": name,
        "SERVICE_COMMAND": args.get("COMMAND"),
    }
    if image != wanted:
        problems.append(f"the image's environment is {image}, not {wanted}")
    return problems


def check_builds(services: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for name, service in services.items():
        dockerfile = dockerfile_of(service, root)
        if dockerfile is None:
            continue
        if not dockerfile.is_file():
            problems.append(f"service {name!r}: Dockerfile {dockerfile} does not exist")
            continue
        text = dockerfile.read_text()
        port = container_port(service)
        args = build_args(service)
        for problem in check_dockerfile(text, port) + check_build_args(text, args, port, root):
            problems.append(f"service {name!r} ({dockerfile.relative_to(root)}): {problem}")
    return problems


def check_depends_on_healthy(services: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):  # short syntax means condition: service_started
            depends = {dep: {"condition": "service_started"} for dep in depends}
        for dep, spec in depends.items():
            if dep not in services:
                problems.append(f"service {name!r} depends on unknown service {dep!r}")
            condition = (spec or {}).get("condition", "service_started")
            if condition != "service_healthy":
                problems.append(
                    f"service {name!r} depends on {dep!r} with condition {condition!r}, "
                    "not service_healthy"
                )
    return problems


# TOKEN only ends a secret's name (API_TOKEN, SESSION_TOKEN_FILE): MAX_OUTPUT_TOKENS and
# FIRST_TOKEN_DELAY_MS are settings.
SECRET_NAME = re.compile(r"PASS|SECRET|KEY|TOKEN(?:_FILE)?$|CREDENTIAL|_AUTH$", re.IGNORECASE)
REQUIRED_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}")
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^/@\s:]*):(?P<pw>[^@\s]*)@")


def check_no_literal_secrets(raw_compose: dict[str, Any]) -> list[str]:
    """On the file as written (before interpolation): a secret is always ``${VAR:?message}``.

    Secret-looking variables (PASSWORD, SECRET, KEY, TOKEN... in the name) must be exactly
    such a reference, except ``*_FILE`` variables pointing into /run/secrets; and a password
    inside any URL anywhere in the file must be such a reference too."""
    problems = []
    for name, service in (raw_compose.get("services") or {}).items():
        for var, value in environment_of(service).items():
            if not SECRET_NAME.search(var):
                continue
            if var.upper().endswith("_FILE") and (value or "").startswith("/run/secrets/"):
                continue
            if value is None or not REQUIRED_REFERENCE.fullmatch(value):
                problems.append(
                    f"service {name!r}: {var} must be a ${{VAR:?message}} reference, not {value!r}"
                )
    references: list[str] = []

    def hide(match: re.Match[str]) -> str:
        references.append(match.group(0))
        return f"\x00{len(references) - 1}\x00"

    for path, text in _strings(raw_compose):
        for match in _URL_CREDENTIALS.finditer(REQUIRED_REFERENCE.sub(hide, text)):
            password = match.group("pw")
            if not re.fullmatch(r"\x00\d+\x00", password):
                shown = re.sub(r"\x00(\d+)\x00", lambda m: references[int(m.group(1))], password)
                problems.append(
                    f"{path}: URL password must be a ${{VAR:?message}} reference, not {shown!r}"
                )
    return problems


def check_bind_mounts(services: dict[str, Any], root: Path) -> list[str]:
    problems = []
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                source = volume.get("source") if volume.get("type") == "bind" else None
            else:
                source = volume.split(":")[0]
            if source and source.startswith((".", "/")) and not (root / source).exists():
                problems.append(f"service {name!r}: bind mount source {source} does not exist")
    return problems


def scrape_targets(prometheus: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(job, metrics path, host:port) for every static target."""
    found = []
    for job in prometheus.get("scrape_configs") or []:
        for static in job.get("static_configs") or []:
            for target in static.get("targets") or []:
                found.append((job["job_name"], job.get("metrics_path", "/metrics"), target))
    return found


def check_scrape_targets(services: dict[str, Any], prometheus: dict[str, Any], root: Path):
    problems = []
    apps = app_services(services, root)
    targets = scrape_targets(prometheus)
    scraped = {target for _, _, target in targets}
    for name, service in apps.items():
        expected = f"{name}:{container_port(service)}"
        if expected not in scraped:
            problems.append(f"app service {name!r} is not scraped at {expected}")
    for job, path, target in targets:
        host, _, port = target.rpartition(":")
        if host in {"localhost", "127.0.0.1"}:
            continue  # Prometheus scraping itself
        if host not in services:
            problems.append(f"job {job!r}: target {target} is not a compose service")
        elif host in apps and port != str(container_port(apps[host])):
            problems.append(f"job {job!r}: {host} listens on {container_port(apps[host])}")
        if host in apps and path != "/metrics":
            problems.append(f"job {job!r}: metrics path is {path}, the services serve /metrics")
    return problems


_PROMQL_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")
_PROMQL_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_PROMQL_IDENT = re.compile(r"(?<![\w.:$])([A-Za-z_:][\w:]*)(\s*\()?")
_PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
    | {"group_left", "group_right", "atan2"}
)


def promql_metrics(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, labels and keywords left out)."""
    text = _PROMQL_STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = _PROMQL_GROUPING.sub("", text)
    text = re.sub(r"\boffset\s+-?\w+", "", text)
    return {
        match.group(1)
        for match in _PROMQL_IDENT.finditer(text)
        if not match.group(2) and match.group(1).lower() not in _PROMQL_KEYWORDS
    }


def all_panels(dashboard: dict[str, Any]):
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []  # panels of a collapsed row


def check_dashboard(
    dashboard: dict[str, Any], exported: frozenset[str] | set[str], datasource_uids: set[str]
) -> list[str]:
    problems = []
    title = dashboard.get("title", "?")
    if int(dashboard.get("schemaVersion", 0)) < 39:
        problems.append(f"{title}: schemaVersion {dashboard.get('schemaVersion')} < 39")

    def check_datasource(where: str, datasource: Any) -> None:
        if isinstance(datasource, dict) and datasource.get("uid") not in datasource_uids:
            problems.append(f"{where}: datasource uid {datasource.get('uid')!r} not provisioned")
        elif isinstance(datasource, str) and not datasource.startswith("$"):
            problems.append(f"{where}: datasource given by name {datasource!r}, not by uid")

    variables = (dashboard.get("templating") or {}).get("list") or []
    for variable in variables:
        where = f"{title}: variable {variable.get('name')!r}"
        if variable.get("type") != "query":
            continue
        check_datasource(where, variable.get("datasource"))
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        label_values = re.fullmatch(r"\s*label_values\(\s*(?:(?P<sel>.*),)?\s*\w+\s*\)\s*", query)
        names = promql_metrics(label_values.group("sel") or "") if label_values else set()
        if not names or not names <= set(exported):
            problems.append(f"{where}: query {query!r} selects {sorted(names)}, not exported")
    for panel in all_panels(dashboard):
        if panel.get("type") == "row":
            continue
        where = f"{title}: panel {panel.get('title')!r}"
        check_datasource(where, panel.get("datasource"))
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: has no query")
        for target in targets:
            check_datasource(where, target.get("datasource"))
            expr = target.get("expr", "")
            names = promql_metrics(expr)
            if not names:
                problems.append(f"{where}: expr {expr!r} selects no metric")
            for unknown in sorted(names - set(exported)):
                problems.append(f"{where}: metric {unknown!r} is not exported by the services")
    return problems


def check_env_example(compose_text: str, env_example_text: str) -> list[str]:
    """deploy/.env.example lists every variable compose reads, and nothing else; each required
    secret has an obviously fake placeholder."""
    listed: dict[str, str] = {}
    for line in env_example_text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            listed[key.strip()] = value.strip()
    problems = []
    referenced = variables_in(compose_text)
    for name, required in sorted(referenced.items()):
        if name not in listed:
            problems.append(f"{name} is used by docker-compose.yml but not in .env.example")
        elif required and not listed[name]:
            problems.append(f"{name} is required but has no placeholder in .env.example")
        elif SECRET_NAME.search(name) and not name.endswith("_FILE"):
            if "replace-me" not in listed[name]:
                problems.append(f"{name}: placeholder {listed[name]!r} does not look fake")
    for name in sorted(set(listed) - set(referenced)):
        problems.append(f"{name} is in .env.example but docker-compose.yml never reads it")
    return problems


def check_databases_created(services: dict[str, Any], init_sql: str) -> list[str]:
    """Every PostgreSQL database a service connects to is created by the init scripts."""
    created = {
        name.strip('"').lower()
        for name in re.findall(r"CREATE\s+DATABASE\s+(\"?\w+\"?)", init_sql, re.IGNORECASE)
    }
    problems = []
    for name, service in services.items():
        for var, value in environment_of(service).items():
            match = re.match(r"postgres(?:ql)?(?:\+\w+)?://[^/]*@([^:/]+)[^/]*/(\w+)", value or "")
            if not match:
                continue
            host, database = match.groups()
            if host not in services:
                problems.append(f"service {name!r}: {var} points at unknown host {host!r}")
            if database.lower() not in created:
                problems.append(f"service {name!r}: database {database!r} is never created")
    return problems


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    return load_compose(compose_text, dummy_env(compose_text))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def raw_compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def prometheus() -> dict[str, Any]:
    return yaml.safe_load(PROMETHEUS_FILE.read_text())


@pytest.fixture(scope="module")
def datasources() -> list[dict[str, Any]]:
    found = []
    for path in sorted(DATASOURCES_DIR.glob("*.y*ml")):
        found.extend(yaml.safe_load(path.read_text()).get("datasources") or [])
    return found


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS_DIR.glob("*.json")}


# ---------------------------------------------------------------------------------------------
# The real files pass
# ---------------------------------------------------------------------------------------------

EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "rabbitmq",
    "mongo",
    "auth",
    "accounting",
    "chat",
    "model-simulator",
    "provisioning",
    "gateway",
    "prometheus",
    "grafana",
}


def test_compose_file_is_valid_and_complete(services: dict[str, Any]) -> None:
    assert EXPECTED_SERVICES <= set(services)


def test_every_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    assert check_healthchecks(services, ROOT) == []
    # Uniform: every one of them is declared in compose, not only in an image.
    assert [name for name, svc in services.items() if not _has_compose_healthcheck(svc)] == []


def test_every_build_has_a_sound_dockerfile(services: dict[str, Any]) -> None:
    assert app_services(services, ROOT), "no service is built from services/*"
    assert check_builds(services, ROOT) == []


def test_app_services_are_named_after_themselves(services: dict[str, Any]) -> None:
    """SERVICE_NAME labels the service's metrics (`service`), which the dashboards select."""
    apps = app_services(services, ROOT)
    assert set(apps) == {"auth", "accounting", "chat", "model-simulator", "provisioning", "gateway"}
    for name, service in apps.items():
        assert environment_of(service)["SERVICE_NAME"] == name
        assert service["image"] == f"llm-platform/{name}:latest"
        assert service["build"]["context"] == "."
        assert service["build"]["dockerfile"] == SERVICE_DOCKERFILE
        assert build_args(service)["SERVICE"] == name


def test_depends_on_waits_for_healthy(services: dict[str, Any]) -> None:
    assert check_depends_on_healthy(services) == []
    assert set(services["auth"]["depends_on"]) == {"postgres", "redis", "rabbitmq"}
    assert set(services["accounting"]["depends_on"]) == {"postgres", "rabbitmq", "auth"}
    assert set(services["chat"]["depends_on"]) == {
        "mongo",
        "redis",
        "rabbitmq",
        "auth",
        "accounting",
        "model-simulator",
    }
    assert "depends_on" not in services["model-simulator"]
    assert set(services["provisioning"]["depends_on"]) == {
        "postgres",
        "rabbitmq",
        "auth",
        "accounting",
        "chat",
    }
    assert set(services["gateway"]["depends_on"]) == {
        "redis",
        "auth",
        "accounting",
        "chat",
        "provisioning",
    }


def test_no_literal_secrets(raw_compose: dict[str, Any]) -> None:
    assert check_no_literal_secrets(raw_compose) == []


def test_bind_mounts_exist(services: dict[str, Any]) -> None:
    assert check_bind_mounts(services, ROOT) == []


def test_every_app_is_scraped_and_every_target_exists(
    services: dict[str, Any], prometheus: dict[str, Any]
) -> None:
    assert check_scrape_targets(services, prometheus, ROOT) == []
    assert prometheus["global"]["scrape_interval"] == "15s"
    jobs = {job for job, _, _ in scrape_targets(prometheus)}
    assert "prometheus" in jobs


def test_databases_are_created(services: dict[str, Any]) -> None:
    init_sql = "\n".join(p.read_text() for p in sorted(POSTGRES_INIT_DIR.glob("*.sql")))
    assert check_databases_created(services, init_sql) == []
    assert {"auth", "accounting", "provisioning"} <= set(
        re.findall(r"CREATE DATABASE (\w+)", init_sql)
    )


def test_env_example_lists_every_variable(compose_text: str) -> None:
    assert check_env_example(compose_text, ENV_EXAMPLE.read_text()) == []


def test_required_variables(compose_text: str) -> None:
    required = {name for name, req in variables_in(compose_text).items() if req}
    assert required == {
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "RABBITMQ_PASSWORD",
        "MONGO_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "JWT_PRIVATE_KEY_FILE",
        "CHAT_CLIENT_SECRET",
        "PROVISIONING_CLIENT_SECRET",
        "ACCOUNTING_CLIENT_SECRET",
        "GATEWAY_CLIENT_SECRET",
        "MFA_ENCRYPTION_KEY",
        "BYOK_ENCRYPTION_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    }


def test_secret_names() -> None:
    for name in ("API_TOKEN", "AWS_SESSION_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY"):
        assert SECRET_NAME.search(name), name
    for name in ("MAX_OUTPUT_TOKENS", "FIRST_TOKEN_DELAY_MS", "TOKENS_PER_SECOND", "AWS_REGION"):
        assert not SECRET_NAME.search(name), name


def test_compose_refuses_to_start_without_a_secret(compose_text: str) -> None:
    env = dummy_env(compose_text)
    del env["POSTGRES_PASSWORD"]
    with pytest.raises(MissingVariableError, match="POSTGRES_PASSWORD"):
        load_compose(compose_text, env)
    with pytest.raises(MissingVariableError, match="GRAFANA_ADMIN_PASSWORD"):
        load_compose(compose_text, {**dummy_env(compose_text), "GRAFANA_ADMIN_PASSWORD": ""})


def test_auth_service_settings(services: dict[str, Any], compose: dict[str, Any]) -> None:
    auth = services["auth"]
    env = environment_of(auth)
    assert env["ENVIRONMENT"] == "production"
    assert env["SEED_DEMO_USERS"] == "false"
    assert env["SERVICE_NAME"] == "auth"
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "3000")
    assert env["DATABASE_URL"] == "postgresql://platform:dummy-postgres-password@postgres:5432/auth"
    assert env["JWT_PRIVATE_KEY_FILE"] == "/run/secrets/jwt_private_key"
    assert auth["secrets"] == ["jwt_private_key"]
    assert compose["secrets"]["jwt_private_key"]["file"] == "dummy-jwt-private-key-file"
    assert "ports" not in auth  # published on loopback by the override only
    assert auth["build"] == {
        "context": ".",
        "dockerfile": SERVICE_DOCKERFILE,
        "args": {"SERVICE": "auth", "PORT": "3000", "COMMAND": "auth-service"},
    }


def test_accounting_service_settings(services: dict[str, Any]) -> None:
    accounting = services["accounting"]
    env = environment_of(accounting)
    assert env["ENVIRONMENT"] == "production"
    assert env["SERVICE_NAME"] == "accounting"
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "3001")
    assert env["DATABASE_URL"] == (
        "postgresql://platform:dummy-postgres-password@postgres:5432/accounting"
    )
    assert env["RABBITMQ_URL"] == "amqp://platform:dummy-rabbitmq-password@rabbitmq:5672/"
    assert env["BUS_EXCHANGE"] == "platform.events"
    assert (env["JWT_ISSUER"], env["JWT_AUDIENCE"]) == ("llm-platform-auth", "llm-platform")
    assert env["AUTH_URL"] == "http://auth:3000"
    assert env["PROVISIONING_URL"] == "http://provisioning:3004"
    assert {
        name: env[name]
        for name in (
            "STARTING_GRANT_CREDITS",
            "RESERVATION_MARGIN_PERCENT",
            "RESERVATION_TTL_SECONDS",
            "LOW_CREDITS_THRESHOLD",
        )
    } == {
        "STARTING_GRANT_CREDITS": "0",
        "RESERVATION_MARGIN_PERCENT": "10",
        "RESERVATION_TTL_SECONDS": "300",
        "LOW_CREDITS_THRESHOLD": "10",
    }
    # Passed through from the shell / .env only when set there (an empty value is not JSON).
    assert "MODEL_PRICES" in env and env["MODEL_PRICES"] is None
    assert "secrets" not in accounting  # verifies tokens with auth's public keys only
    assert "ports" not in accounting
    assert build_args(accounting) == {
        "SERVICE": "accounting",
        "PORT": "3001",
        "COMMAND": "accounting-service",
    }
    assert accounting["image"] == "llm-platform/accounting:latest"


CHAT_MONGO_URL = (
    "mongodb://platform:dummy-mongo-password@mongo:27017/chat?replicaSet=rs0&authSource=admin"
)


def test_chat_service_settings(services: dict[str, Any]) -> None:
    chat = services["chat"]
    env = environment_of(chat)
    assert env["ENVIRONMENT"] == "production"
    assert env["SERVICE_NAME"] == "chat"
    assert (env["HOST"], env["PORT"]) == ("0.0.0.0", "3002")
    assert env["MONGO_URL"] == CHAT_MONGO_URL
    assert env["MONGO_DATABASE"] == "chat"
    assert env["REDIS_URL"] == "redis://:dummy-redis-password@redis:6379/0"
    assert env["RABBITMQ_URL"] == "amqp://platform:dummy-rabbitmq-password@rabbitmq:5672/"
    assert env["BUS_EXCHANGE"] == "platform.events"
    assert (env["JWT_ISSUER"], env["JWT_AUDIENCE"]) == ("llm-platform-auth", "llm-platform")
    assert env["AUTH_URL"] == "http://auth:3000"
    assert env["ACCOUNTING_URL"] == "http://accounting:3001"
    # Model backends: the simulator by default, with the required credentials passed through.
    assert env["BEDROCK_ENDPOINT_URL"] == "http://model-simulator:3005"
    assert env["OPENAI_BASE_URL"] == "http://model-simulator:3005/v1"
    assert env["ANTHROPIC_BASE_URL"] == "http://model-simulator:3005"
    assert env["ANTHROPIC_API_KEY"] == "dummy-anthropic-api-key"
    assert env["AWS_REGION"] == "us-east-1"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["OPENAI_API_KEY"]) == (
        "dummy-aws-access-key-id",
        "dummy-aws-secret-access-key",
        "dummy-openai-api-key",
    )
    # Passed through from the shell / .env only when set there (an empty value is not JSON).
    assert "MODELS" in env and env["MODELS"] is None
    assert {
        name: env[name]
        for name in (
            "DEFAULT_MODEL_ID",
            "REQUESTS_PER_MINUTE",
            "MAX_OUTPUT_TOKENS",
            "DISCONNECT_GRACE_SECONDS",
        )
    } == {
        "DEFAULT_MODEL_ID": "anthropic.claude-3-haiku-20240307-v1:0",
        "REQUESTS_PER_MINUTE": "30",
        "MAX_OUTPUT_TOKENS": "1024",
        "DISCONNECT_GRACE_SECONDS": "5",
    }
    assert "secrets" not in chat  # verifies tokens with auth's public keys only
    assert "ports" not in chat


def test_chat_talks_to_the_mongo_replica_set(services: dict[str, Any]) -> None:
    command = services["mongo"]["command"]
    replica_set = command[command.index("--replSet") + 1]
    mongo_env = environment_of(services["mongo"])
    assert CHAT_MONGO_URL.startswith(f"mongodb://{mongo_env['MONGO_INITDB_ROOT_USERNAME']}:")
    assert f"replicaSet={replica_set}" in CHAT_MONGO_URL
    # The root user is created in the admin database.
    assert "authSource=admin" in CHAT_MONGO_URL


def test_an_empty_bedrock_endpoint_means_real_bedrock(compose_text: str) -> None:
    """`${BEDROCK_ENDPOINT_URL-...}`: set but empty stays empty (chat then uses AWS itself);
    only an unset variable falls back to the simulator."""
    env = {**dummy_env(compose_text), "BEDROCK_ENDPOINT_URL": "", "OPENAI_BASE_URL": ""}
    chat_env = environment_of(load_compose(compose_text, env)["services"]["chat"])
    assert chat_env["BEDROCK_ENDPOINT_URL"] == ""
    assert chat_env["OPENAI_BASE_URL"] == "http://model-simulator:3005/v1"  # `:-`
    real = {
        **dummy_env(compose_text),
        "BEDROCK_ENDPOINT_URL": "",
        "OPENAI_BASE_URL": "https://api.openai.com/v1",
        "AWS_REGION": "eu-west-1",
    }
    chat_env = environment_of(load_compose(compose_text, real)["services"]["chat"])
    assert (chat_env["BEDROCK_ENDPOINT_URL"], chat_env["AWS_REGION"]) == ("", "eu-west-1")
    assert chat_env["OPENAI_BASE_URL"] == "https://api.openai.com/v1"


def test_compose_refuses_to_start_without_model_credentials(compose_text: str) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    ):
        env = {**dummy_env(compose_text), name: ""}
        with pytest.raises(MissingVariableError, match=name):
            load_compose(compose_text, env)


def test_model_simulator_service_settings(services: dict[str, Any]) -> None:
    simulator = services["model-simulator"]
    env = environment_of(simulator)
    assert env == {
        "ENVIRONMENT": "production",
        "SERVICE_NAME": "model-simulator",
        "HOST": "0.0.0.0",
        "PORT": "3005",
        "FIRST_TOKEN_DELAY_MS": "50",
        "TOKENS_PER_SECOND": "50",
        "ANSWER_TOKENS": "60",
        "MAX_STALL_SECONDS": "60",
    }  # in particular no Redis / RabbitMQ URL: it is handed no password
    # It answers anyone with any credentials: never published by the base file.
    assert "ports" not in simulator
    assert "secrets" not in simulator
    # The same hardening and healthcheck as every application service.
    for key in ("read_only", "cap_drop", "security_opt", "healthcheck", "init"):
        assert simulator[key] == services["auth"][key], key


def test_chat_and_simulator_settings_accept_the_compose_environment(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The services' own settings classes (when installed) take what compose hands them, with
    ENVIRONMENT=production: no development secret left, a default model in the catalog."""
    chat_config = pytest.importorskip("chat.config")
    simulator_config = pytest.importorskip("model_simulator.config")
    catalog = pytest.importorskip("chat.catalog.catalog")
    for name, settings_class in (
        ("chat", chat_config.ChatSettings),
        ("model-simulator", simulator_config.SimulatorSettings),
    ):
        with monkeypatch.context() as patch:
            for var, value in environment_of(services[name]).items():
                if value is None:
                    patch.delenv(var, raising=False)
                else:
                    patch.setenv(var, value)
            settings = settings_class()
        assert settings.is_production and settings.service_name == name
        assert settings.port == int(environment_of(services[name])["PORT"])
        if name == "chat":
            catalog.ModelCatalog(settings.models, settings.default_model_id)
            assert settings.bedrock_endpoint_url == "http://model-simulator:3005"


GATEWAY_UPSTREAM_VARIABLES = {
    "AUTH_URL": "auth",
    "ACCOUNTING_URL": "accounting",
    "CHAT_URL": "chat",
    "PROVISIONING_URL": "provisioning",
}


def test_gateway_service_settings(services: dict[str, Any]) -> None:
    gateway = services["gateway"]
    env = environment_of(gateway)
    assert env == {
        "ENVIRONMENT": "production",
        "SERVICE_NAME": "gateway",
        "HOST": "0.0.0.0",
        "PORT": "8080",
        "REDIS_URL": "redis://:dummy-redis-password@redis:6379/0",
        "AUTH_URL": "http://auth:3000",
        "SERVICE_CLIENT_SECRET": "dummy-gateway-client-secret",
        "ACCOUNTING_URL": "http://accounting:3001",
        "CHAT_URL": "http://chat:3002",
        "PROVISIONING_URL": "http://provisioning:3004",
        "OPTIONAL_UPSTREAMS": "",
        "CORS_ORIGINS": "",
        "EDGE_REQUESTS_PER_MINUTE": "600",
        "CONSOLE_DIST_DIR": "/app/console",
    }  # no database, RabbitMQ or signing key: no other password than its own client secret
    assert gateway["ports"] == ["8080:8080"]
    assert "secrets" not in gateway
    for key in ("read_only", "cap_drop", "security_opt", "healthcheck", "init"):
        assert gateway[key] == services["auth"][key], key


def test_the_gateway_image_carries_the_console_build(services: dict[str, Any]) -> None:
    """A stage of the one recipe builds services/console with `npm ci` from its lockfile (for
    SERVICE=gateway only) and the runtime copies it to where CONSOLE_DIST_DIR points."""
    parsed = parsed_dockerfile((ROOT / SERVICE_DOCKERFILE).read_text(), {"SERVICE": "gateway"})
    stages: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for item in parsed.structure:
        if item["instruction"] == "FROM":
            current = item["value"].split()[-1]
        stages.setdefault(current, []).append((item["instruction"], item["value"]))
    console_runs = " ".join(value for instr, value in stages["console"] if instr == "RUN")
    assert "npm ci" in console_runs and "npm run build" in console_runs
    assert any(
        "services/console/package-lock.json" in value
        for instr, value in stages["console"]
        if instr == "COPY"
    )
    runtime_copies = [value for instr, value in stages["runtime"] if instr == "COPY"]
    destination = environment_of(services["gateway"])["CONSOLE_DIST_DIR"]
    assert f"--from=console /out {destination}" in runtime_copies
    assert (ROOT / "services/console/package-lock.json").is_file()


def test_gateway_routes_to_each_service_on_its_port(services: dict[str, Any]) -> None:
    """Every upstream URL is a compose service on the port it listens on; one that is not in
    this file yet (provisioning) is optional, so the gateway is ready without it."""
    env = environment_of(services["gateway"])
    optional = {name.strip() for name in (env["OPTIONAL_UPSTREAMS"] or "").split(",")}
    for variable, upstream in GATEWAY_UPSTREAM_VARIABLES.items():
        host, _, port = (env[variable] or "").removeprefix("http://").partition(":")
        assert host == upstream, variable
        if upstream in services:
            assert int(port) == container_port(services[upstream]), variable
            assert upstream not in optional, f"{upstream} is in compose: make it required"
        else:
            assert upstream in optional, f"{upstream} is not in compose: make it optional"


def test_gateway_settings_accept_the_compose_environment(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway_config = pytest.importorskip("gateway.config")
    for var, value in environment_of(services["gateway"]).items():
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    settings = gateway_config.GatewaySettings()
    assert settings.is_production and settings.service_name == "gateway"
    assert settings.port == 8080
    assert settings.upstream_urls == {
        "auth": "http://auth:3000",
        "accounting": "http://accounting:3001",
        "chat": "http://chat:3002",
        "provisioning": "http://provisioning:3004",
    }
    assert settings.optional_upstreams == []
    assert settings.allowed_origins == []  # no CORS origin unless one is configured
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com,https://admin.example.com")
    assert gateway_config.GatewaySettings().allowed_origins == [
        "https://app.example.com",
        "https://admin.example.com",
    ]


def test_demo_users_can_be_enabled_for_development(compose_text: str) -> None:
    env = {**dummy_env(compose_text), "ENVIRONMENT": "development", "SEED_DEMO_USERS": "true"}
    auth_env = environment_of(load_compose(compose_text, env)["services"]["auth"])
    assert (auth_env["ENVIRONMENT"], auth_env["SEED_DEMO_USERS"]) == ("development", "true")


def test_mongo_is_a_single_node_replica_set(services: dict[str, Any]) -> None:
    mongo = services["mongo"]
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    test = mongo["healthcheck"]["test"]
    test = test if isinstance(test, str) else " ".join(test)
    assert "rs.initiate" in test and "rs0" in test


def test_monitoring_ports(services: dict[str, Any]) -> None:
    assert services["prometheus"]["ports"] == ["9091:9090"]
    assert services["grafana"]["ports"] == ["3003:3000"]
    grafana_env = environment_of(services["grafana"])
    assert grafana_env["GF_SECURITY_ADMIN_PASSWORD"] == "dummy-grafana-admin-password"


def test_grafana_datasource_and_dashboards(
    services: dict[str, Any],
    datasources: list[dict[str, Any]],
    dashboards: dict[str, dict[str, Any]],
) -> None:
    uids = {ds["uid"] for ds in datasources}
    assert uids == {"prometheus"}
    (prom,) = datasources
    assert prom["type"] == "prometheus"
    assert prom["url"] == "http://prometheus:9090"
    assert {"service-overview.json", "ledger.json", "chat.json"} <= set(dashboards)
    for name, dashboard in dashboards.items():
        assert check_dashboard(dashboard, EXPORTED_METRICS, uids) == [], name


def test_dashboard_provider_points_at_the_mounted_dashboards(services: dict[str, Any]) -> None:
    providers = []
    for path in sorted(DASHBOARD_PROVIDERS_DIR.glob("*.y*ml")):
        providers.extend(yaml.safe_load(path.read_text())["providers"])
    mounts = dict(
        volume.split(":")[:2]
        for volume in services["grafana"]["volumes"]
        if isinstance(volume, str) and volume.startswith(".")
    )
    assert mounts["./grafana/dashboards"] == "/var/lib/grafana/dashboards"
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert [p["options"]["path"] for p in providers] == ["/var/lib/grafana/dashboards"]
    assert all(p["type"] == "file" for p in providers)


def test_service_overview_dashboard_contents(dashboards: dict[str, dict[str, Any]]) -> None:
    dashboard = dashboards["service-overview.json"]
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "service"]
    assert variable["query"]["query"] == "label_values(http_requests_total, service)"
    exprs = [t["expr"] for p in all_panels(dashboard) for t in p.get("targets", [])]
    for quantile in ("0.5", "0.95", "0.99"):
        assert any(
            e.startswith(f"histogram_quantile({quantile}, sum by (service, le)") for e in exprs
        )
    assert any('status=~"5.."' in e and " / " in e for e in exprs)
    assert any(e.startswith("sum by (method, route)") for e in exprs)
    assert any(e.startswith("sum by (service) (rate(http_requests_total") for e in exprs)


def test_ledger_dashboard_contents(dashboards: dict[str, dict[str, Any]]) -> None:
    dashboard = dashboards["ledger.json"]
    assert dashboard["uid"] == "llm-platform-ledger"
    exprs = [t["expr"] for p in all_panels(dashboard) for t in p.get("targets", [])]
    selected = set().union(*(promql_metrics(e) for e in exprs))
    # Every accounting series is on the dashboard.
    assert ACCOUNTING_METRICS - selected <= {
        "accounting_reservation_seconds_sum",
        "accounting_consumer_lag_seconds_sum",
        "accounting_consumer_lag_seconds_count",
    }
    for kind in ("allocated", "charged", "refunded", "expired"):
        assert f"sum(rate(accounting_credits_{kind}_total[5m])) * 60" in exprs
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (outcome, le) "
            "(rate(accounting_reservation_seconds_bucket[5m])))"
        ) in exprs
    assert any('accounting_reservation_seconds_count{outcome="insufficient"}' in e for e in exprs)
    assert "sum by (type, outcome) (rate(accounting_events_processed_total[5m]))" in exprs
    assert any(
        e.startswith("histogram_quantile(0.95, sum by (type, le)")
        and "accounting_consumer_lag_seconds_bucket" in e
        for e in exprs
    )
    assert any('service="accounting", status=~"5.."' in e and " / " in e for e in exprs), (
        "no accounting HTTP error rate"
    )
    assert layout_problems(dashboard) == []


def layout_problems(dashboard: dict[str, Any]) -> list[str]:
    """Panels overlapping or leaving the 24-column grid, and duplicate panel ids."""
    problems = []
    cells: set[tuple[int, int]] = set()
    for panel in all_panels(dashboard):
        pos = panel["gridPos"]
        mine = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        if pos["x"] + pos["w"] > 24 or mine & cells:
            problems.append(f"panel {panel['title']!r} overlaps another or leaves the grid")
        cells |= mine
    ids = [panel["id"] for panel in all_panels(dashboard)]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate panel ids in {sorted(ids)}")
    return problems


def _exprs_by_title(dashboard: dict[str, Any]) -> dict[str, list[str]]:
    return {
        panel["title"]: [t["expr"] for t in panel.get("targets") or []]
        for panel in all_panels(dashboard)
        if panel.get("type") != "row"
    }


def test_chat_dashboard_contents(dashboards: dict[str, dict[str, Any]]) -> None:
    dashboard = dashboards["chat.json"]
    assert dashboard["uid"] == "llm-platform-chat"
    panels = _exprs_by_title(dashboard)
    exprs = [e for found in panels.values() for e in found]
    selected = set().union(*(promql_metrics(e) for e in exprs))
    # Every chat and simulator series is on the dashboard.
    assert CHAT_METRICS - selected <= {
        "chat_time_to_first_token_seconds_sum",
        "chat_time_to_first_token_seconds_count",
    }
    assert MODEL_SIMULATOR_METRICS <= selected
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (model, le) "
            "(rate(chat_time_to_first_token_seconds_bucket[5m])))"
        ) in exprs
    assert "sum by (model) (rate(chat_tokens_streamed_total[5m]))" in exprs
    assert "sum by (provider, code) (rate(chat_provider_errors_total[5m]))" in exprs
    assert "sum by (outcome) (rate(chat_streams_finished_total[5m]))" in exprs
    # The gauges count what one process holds: the fleet's figure is their sum, never max.
    for gauge in (
        "chat_active_streams",
        "chat_observers",
        "chat_bedrock_streams",
        "model_simulator_responses_in_flight",
    ):
        uses = [e for e in exprs if gauge in promql_metrics(e)]
        assert uses and all(e == f"sum({gauge})" for e in uses), (gauge, uses)
    assert "sum(rate(model_simulator_tokens_generated_total[5m]))" in exprs
    assert any('service="chat", status=~"5.."' in e and " / " in e for e in exprs), (
        "no chat HTTP error rate"
    )
    # The outcome panel colours every outcome the service reports.
    (outcomes,) = [
        p for p in all_panels(dashboard) if p.get("title") == "Streams finished by outcome"
    ]
    colored = {o["matcher"]["options"] for o in outcomes["fieldConfig"]["overrides"]}
    assert colored == {"complete", "interrupted", "failed"}
    assert layout_problems(dashboard) == []


# The series names a metric family of each type exposes (prometheus_client strips a counter's
# _total from the family name).
_SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
}


# The labels the dashboards group by, per metric family.
CHAT_LABELS = {
    "chat_time_to_first_token_seconds": ("model",),
    "chat_tokens_streamed": ("model",),
    "chat_active_streams": (),
    "chat_observers": (),
    "chat_bedrock_streams": (),
    "chat_provider_errors": ("provider", "code"),
    "chat_streams_finished": ("outcome",),
    "chat_model_status": ("model",),
}


def _registered(module: str) -> tuple[set[str], dict[str, tuple[str, ...]]]:
    """Series names and label names (by family) of the metrics a module defines."""
    metrics = pytest.importorskip(module)
    from prometheus_client.metrics import MetricWrapperBase

    names: set[str] = set()
    labels: dict[str, tuple[str, ...]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                suffixes = _SAMPLE_SUFFIXES[family.type]
                names.update(f"{family.name}{suffix}" for suffix in suffixes)
                labels[family.name] = tuple(value._labelnames)
    return names, labels


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("accounting.metrics", ACCOUNTING_METRICS),
        ("chat.metrics", CHAT_METRICS),
        ("model_simulator.metrics", MODEL_SIMULATOR_METRICS),
        ("gateway.metrics", GATEWAY_METRICS),
        ("provisioning.metrics", PROVISIONING_METRICS),
    ],
)
def test_service_metrics_exist(module: str, expected: frozenset[str]) -> None:
    """The names the dashboards may use are the ones each service registers (when installed)."""
    registered, _ = _registered(module)
    assert expected <= registered, sorted(expected - registered)


def test_chat_metric_labels() -> None:
    _, labels = _registered("chat.metrics")
    assert labels == CHAT_LABELS


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_config_and_every_dashboard_query(
    dashboards: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Prometheus's own parser, where available (Debian: apt-get install prometheus)."""
    promtool = shutil.which("promtool")
    assert promtool is not None
    config = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(PROMETHEUS_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    # Each panel query as a recording rule, Grafana's $variables replaced by a regex.
    rules = [
        {"record": f"dashboard:query{i}", "expr": re.sub(r"\$\{?\w+\}?", ".*", expr)}
        for i, expr in enumerate(
            t["expr"]
            for dashboard in dashboards.values()
            for panel in all_panels(dashboard)
            for t in panel.get("targets") or []
        )
    ]
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# ---------------------------------------------------------------------------------------------
# Each check can fail
# ---------------------------------------------------------------------------------------------


def _with_extra(compose_text: str, edit) -> str:
    data = yaml.safe_load(compose_text)
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update({"bogus": 1}), "bogus"),
        (lambda d: d["services"]["auth"].update({"helthcheck": {}}), "helthcheck"),
        (lambda d: d["services"]["redis"]["healthcheck"].update({"tst": ["CMD"]}), "tst"),
        (lambda d: d["services"]["auth"].update({"secrets": ["nope"]}), "nope"),
        (lambda d: d["services"]["auth"]["depends_on"]["redis"].update({"condition": "x"}), "x"),
    ],
    ids=[
        "unknown-top-level-key",
        "unknown-service-key",
        "unknown-healthcheck-key",
        "undefined-secret",
        "bad-condition",
    ],
)
def test_validator_rejects_a_broken_file(compose_text: str, edit, message: str) -> None:
    broken = _with_extra(compose_text, edit)
    with pytest.raises(ValueError, match=message):
        load_compose(broken, dummy_env(compose_text))


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET:-d} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env) == "v d d  d"
    assert interpolate("${SET:+a} ${UNSET:+a} $SET $$SET ${UNSET:-${SET}}", env) == "a  v $SET v"
    assert interpolate("${EMPTY?m}", env) == ""
    with pytest.raises(MissingVariableError, match="boom"):
        interpolate("${EMPTY:?boom}", env)
    with pytest.raises(MissingVariableError):
        interpolate("${UNSET?boom}", env)


def test_healthcheck_check_fails(services: dict[str, Any]) -> None:
    broken = copy.deepcopy(services)
    del broken["redis"]["healthcheck"]
    broken["rabbitmq"]["healthcheck"] = {"disable": True}
    broken["postgres"]["healthcheck"] = {"test": ["NONE"]}
    problems = check_healthchecks(broken, ROOT)
    assert len(problems) == 3
    # A built service without one in compose falls back to its Dockerfile's HEALTHCHECK.
    del broken["auth"]["healthcheck"]
    assert len(check_healthchecks(broken, ROOT)) == 3


def test_build_check_fails(services: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(services)
    broken["auth"]["build"]["dockerfile"] = "deploy/docker/missing.Dockerfile"
    assert check_builds(broken, ROOT) == [
        f"service 'auth': Dockerfile {ROOT}/deploy/docker/missing.Dockerfile does not exist"
    ]
    bad = "FROM python:3.11-slim\nRUN pip install .\nUSER root\nEXPOSE 8000\n"
    problems = check_dockerfile(bad, 3000)
    assert len(problems) == 6, problems


def test_depends_on_check_fails(services: dict[str, Any]) -> None:
    broken = copy.deepcopy(services)
    broken["auth"]["depends_on"]["redis"]["condition"] = "service_started"
    broken["grafana"]["depends_on"] = ["prometheus"]
    broken["prometheus"]["depends_on"] = {"ghost": {"condition": "service_healthy"}}
    problems = check_depends_on_healthy(broken)
    assert len(problems) == 3, problems


@pytest.mark.parametrize(
    ("service", "var", "value"),
    [
        ("postgres", "POSTGRES_PASSWORD", "hunter2"),
        ("postgres", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:-hunter2}"),
        ("postgres", "POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}"),
        ("auth", "API_TOKEN", "abc"),
        ("auth", "JWT_PRIVATE_KEY_FILE", "./deploy/secrets/key.pem"),
        ("auth", "DATABASE_URL", "postgresql://platform:hunter2@postgres:5432/auth"),
        ("auth", "DATABASE_URL", "postgresql://platform:${POSTGRES_PASSWORD:-x}@postgres/auth"),
        ("auth", "RABBITMQ_URL", "amqp://guest:guest@rabbitmq:5672/"),
        ("chat", "OPENAI_API_KEY", "sk-simulator"),
        ("chat", "AWS_SECRET_ACCESS_KEY", "${AWS_SECRET_ACCESS_KEY:-simulator-secret}"),
        ("chat", "MONGO_URL", "mongodb://platform:hunter2@mongo:27017/chat?replicaSet=rs0"),
    ],
)
def test_literal_secret_check_fails(
    raw_compose: dict[str, Any], service: str, var: str, value: str
) -> None:
    broken = copy.deepcopy(raw_compose)
    broken["services"][service]["environment"][var] = value
    assert len(check_no_literal_secrets(broken)) == 1


def test_literal_secret_check_covers_list_environment_and_commands(
    raw_compose: dict[str, Any],
) -> None:
    broken = copy.deepcopy(raw_compose)
    broken["services"]["redis"]["environment"] = ["REDISCLI_AUTH=hunter2"]
    broken["services"]["redis"]["command"] = ["sh", "-c", "redis-cli -u redis://:pw@redis ping"]
    assert len(check_no_literal_secrets(broken)) == 2


def test_bind_mount_check_fails(services: dict[str, Any]) -> None:
    broken = copy.deepcopy(services)
    broken["prometheus"]["volumes"].append("./prometheus/missing.yml:/etc/x.yml:ro")
    assert len(check_bind_mounts(broken, ROOT)) == 1


def test_scrape_check_fails(services: dict[str, Any], prometheus: dict[str, Any]) -> None:
    # An app service nobody scrapes.
    no_auth = copy.deepcopy(prometheus)
    no_auth["scrape_configs"] = [j for j in no_auth["scrape_configs"] if j["job_name"] != "auth"]
    assert check_scrape_targets(services, no_auth, ROOT) == [
        "app service 'auth' is not scraped at auth:3000"
    ]
    # A target that is not a compose service, and one on the wrong port.
    extra = copy.deepcopy(prometheus)
    extra["scrape_configs"].append(
        {"job_name": "ghost", "static_configs": [{"targets": ["ghost:3009", "auth:3001"]}]}
    )
    assert len(check_scrape_targets(services, extra, ROOT)) == 2
    no_accounting = copy.deepcopy(prometheus)
    no_accounting["scrape_configs"] = [
        j for j in no_accounting["scrape_configs"] if j["job_name"] != "accounting"
    ]
    assert check_scrape_targets(services, no_accounting, ROOT) == [
        "app service 'accounting' is not scraped at accounting:3001"
    ]
    for job, target in (
        ("chat", "chat:3002"),
        ("model-simulator", "model-simulator:3005"),
        ("gateway", "gateway:8080"),
    ):
        without = copy.deepcopy(prometheus)
        without["scrape_configs"] = [j for j in without["scrape_configs"] if j["job_name"] != job]
        assert check_scrape_targets(services, without, ROOT) == [
            f"app service {job!r} is not scraped at {target}"
        ]
    # A new app service in compose without a scrape job.
    more = copy.deepcopy(services)
    more["reports"] = {
        **copy.deepcopy(services["auth"]),
        "build": {
            "context": ".",
            "dockerfile": SERVICE_DOCKERFILE,
            "args": {"SERVICE": "auth", "PORT": "3006", "COMMAND": "auth-service"},
        },
        "environment": {"PORT": "3006"},
    }
    assert check_scrape_targets(more, prometheus, ROOT) == [
        "app service 'reports' is not scraped at reports:3006"
    ]
    # The simulator's job pointed at chat's port.
    wrong_port = copy.deepcopy(prometheus)
    for job in wrong_port["scrape_configs"]:
        if job["job_name"] == "model-simulator":
            job["static_configs"] = [{"targets": ["model-simulator:3002"]}]
    assert check_scrape_targets(services, wrong_port, ROOT) == [
        "app service 'model-simulator' is not scraped at model-simulator:3005",
        "job 'model-simulator': model-simulator listens on 3005",
    ]


def test_promql_metric_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (service, le) (rate(foo_bucket{a="b", c=~"x|y"}[5m])))'
        " / on (service) group_left sum without (route) (bar_total offset 1h) > bool 1e3"
    )
    assert promql_metrics(expr) == {"foo_bucket", "bar_total"}
    assert promql_metrics('up{job="label_values(x)"}') == {"up"}
    assert promql_metrics("vector(1)") == set()


def test_dashboard_check_fails(dashboards: dict[str, dict[str, Any]]) -> None:
    broken = copy.deepcopy(dashboards["service-overview.json"])
    panels = [p for p in all_panels(broken) if p.get("type") != "row"]
    panels[0]["targets"][0]["expr"] = "sum(rate(http_requests_count[5m]))"  # not exported
    panels[1]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "other"}
    panels[2]["targets"] = []
    panels[3]["targets"][0]["expr"] = "vector(1)"
    broken["templating"]["list"][0]["query"]["query"] = "label_values(up, service)"
    broken["schemaVersion"] = 27
    problems = check_dashboard(broken, EXPORTED_METRICS, {"prometheus"})
    assert len(problems) == 6, problems
    # And a datasource uid the provisioning file does not define fails every panel.
    assert check_dashboard(dashboards["service-overview.json"], EXPORTED_METRICS, {"prom"})
    # A ledger panel on a series accounting does not export.
    ledger = copy.deepcopy(dashboards["ledger.json"])
    target = next(t for p in all_panels(ledger) for t in p.get("targets") or [])
    target["expr"] = "sum(rate(accounting_credits_granted_total[5m])) * 60"
    assert check_dashboard(ledger, EXPORTED_METRICS, {"prometheus"}) == [
        "Accounting ledger: panel 'Credits per minute: allocated / charged / refunded / expired':"
        " metric 'accounting_credits_granted_total' is not exported by the services"
    ]
    # A chat panel on a misspelt series (the counter without its _total).
    chat = copy.deepcopy(dashboards["chat.json"])
    (panel,) = [p for p in all_panels(chat) if p["title"] == "Tokens streamed per second by model"]
    panel["targets"][0]["expr"] = "sum by (model) (rate(chat_tokens_streamed[5m]))"
    assert check_dashboard(chat, EXPORTED_METRICS, {"prometheus"}) == [
        "Chat streaming: panel 'Tokens streamed per second by model':"
        " metric 'chat_tokens_streamed' is not exported by the services"
    ]


def test_layout_check_fails(dashboards: dict[str, dict[str, Any]]) -> None:
    chat = copy.deepcopy(dashboards["chat.json"])
    panels = [p for p in all_panels(chat) if p.get("type") != "row"]
    panels[1]["gridPos"] = dict(panels[0]["gridPos"])  # on top of the first
    panels[2]["id"] = panels[3]["id"]
    assert len(layout_problems(chat)) == 2


def test_env_example_check_fails(compose_text: str) -> None:
    example = ENV_EXAMPLE.read_text()
    missing = re.sub(r"^MONGO_PASSWORD=.*$", "", example, flags=re.MULTILINE)
    real_looking = example.replace("replace-me-redis-password", "s3cr3t")
    stale = example + "\nUNUSED_SETTING=1\n"
    assert check_env_example(compose_text, missing) == [
        "MONGO_PASSWORD is used by docker-compose.yml but not in .env.example"
    ]
    assert len(check_env_example(compose_text, real_looking)) == 1
    assert len(check_env_example(compose_text, stale)) == 1


def test_build_args_check_fails(services: dict[str, Any]) -> None:
    """A service added to compose with one of its build arguments wrong, or a recipe that does
    not carry an argument into the image."""
    recipe = (ROOT / SERVICE_DOCKERFILE).read_text()
    chat = {"SERVICE": "chat", "PORT": "3002", "COMMAND": "chat-service"}
    assert check_build_args(recipe, chat, 3002, ROOT) == []
    assert check_build_args(recipe, {**chat, "COMMAND": "accounting-service"}, 3002, ROOT) == [
        "COMMAND=accounting-service is not a console script of chat ['chat-service']"
    ]
    assert check_build_args(recipe, {**chat, "PORT": "3001"}, 3002, ROOT) == [
        "build arg PORT=3001, but the service listens on 3002"
    ]
    # The directory is services/model-simulator; its package is model-simulator, not the module.
    simulator = {"SERVICE": "model-simulator", "PORT": "3005", "COMMAND": "model-simulator"}
    assert check_build_args(recipe, simulator, 3005, ROOT) == []
    assert check_build_args(recipe, {**simulator, "SERVICE": "model_simulator"}, 3005, ROOT) == [
        "build arg SERVICE=model_simulator: services/model_simulator/pyproject.toml does not exist"
    ]
    # A recipe that forgot to pass COMMAND on to the runtime stage.
    forgetful = recipe.replace("SERVICE_COMMAND=${COMMAND}", "SERVICE_COMMAND=chat-service")
    assert check_build_args(forgetful, {**chat, "COMMAND": "chat-service"}, 3002, ROOT) == []
    assert check_build_args(forgetful, simulator, 3005, ROOT) == [
        "the image's environment is {'PORT': '3005', 'SERVICE_NAME': 'model-simulator', "
        "'SERVICE_COMMAND': 'chat-service'}, not {'PORT': '3005', 'SERVICE_NAME': "
        "'model-simulator', 'SERVICE_COMMAND': 'model-simulator'}"
    ]
    # And check_builds reports it against the compose service.
    broken = copy.deepcopy(services)
    broken["chat"]["environment"]["PORT"] = "3005"
    problems = check_builds(broken, ROOT)
    wrong = "build arg PORT=3002, but the service listens on 3005"
    assert f"service 'chat' ({SERVICE_DOCKERFILE}): {wrong}" in problems


def test_database_check_fails(services: dict[str, Any]) -> None:
    assert check_databases_created(services, "CREATE DATABASE accounting;") == [
        "service 'auth': database 'auth' is never created",
        "service 'provisioning': database 'provisioning' is never created",
    ]


def test_the_base_file_publishes_only_the_gateway_and_monitoring(services: dict[str, Any]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"gateway", "grafana", "prometheus"}


def test_the_override_publishes_each_service_on_loopback_only(services: dict[str, Any]) -> None:
    override = yaml.safe_load(OVERRIDE_FILE.read_text())["services"]
    expected = {"auth": 3000, "accounting": 3001, "chat": 3002, "provisioning": 3004}
    expected["model-simulator"] = 3005
    assert set(override) == set(expected)
    for name, port in expected.items():
        assert name in services, name  # it only adds to services the base file defines
        assert override[name] == {"ports": [f"127.0.0.1:{port}:{port}"]}, name
