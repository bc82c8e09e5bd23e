"""The rendered manifests against the services themselves: each settings class accepts what
its Deployment hands it, and each migration Job migrates what its service migrates."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from k8s_code import settings_class
from k8s_manifests import (
    EXPECTED_SERVICES,
    OVERLAYS,
    ROOT,
    Obj,
    container_env,
    named,
    pod_spec,
)

# The services with a PostgreSQL database, hence a migration Job.
MIGRATED = ("auth", "accounting", "provisioning")


def _stand_in(secret: str, key: str) -> str:
    """A value for a Secret's key that no development default equals."""
    if "encryption-key" in key:
        return base64.b64encode(hashlib.sha256(f"{secret}/{key}".encode()).digest()).decode()
    return f"k8s-test-{secret}-{key}"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "jwt-private-key.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_accepts_its_rendered_environment(
    rendered: dict[str, list[Obj]], overlay: str, monkeypatch: pytest.MonkeyPatch, key_file: Path
) -> None:
    """Each service's own settings class takes what its Deployment hands it (the Secrets'
    values stood in for, the signing key file with a fresh key): every value is one it
    accepts, and in production no development secret is left."""
    objs = rendered[overlay]
    for service in sorted(EXPECTED_SERVICES[overlay]):
        deployment = named(objs, "Deployment", service)
        assert deployment is not None
        container = pod_spec(deployment)["containers"][0]
        with monkeypatch.context() as patch:
            for var in container_env(objs, container).values():
                value = _stand_in(*var.secret) if var.secret else var.value
                if var.name == "JWT_PRIVATE_KEY_FILE":
                    value = str(key_file)
                patch.setenv(var.name, value or "")
            settings = settings_class(service)()
        assert settings.service_name == service
        assert settings.is_production == (overlay == "production")
        assert (settings.host, settings.port) == ("0.0.0.0", container["ports"][0]["containerPort"])


def startup_migrations(main_source: str) -> str | None:
    """What a service's main.py hands migrated_pool as its migrations (the source text)."""
    for node in ast.walk(ast.parse(main_source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "migrated_pool"
            and len(node.args) >= 2
        ):
            return ast.unparse(node.args[1])
    return None


@pytest.mark.parametrize("service", MIGRATED)
def test_the_migrate_script_applies_what_the_service_applies_at_start(service: str) -> None:
    """``<service>-migrate`` (the Job) runs ``database.migrate``, over ``ALL_MIGRATIONS``: the
    very list main.py applies at start-up, so the Job never leaves a migration to the pods."""
    main = (ROOT / "services" / service / "src" / service / "main.py").read_text()
    assert startup_migrations(main) == "ALL_MIGRATIONS"
    assert f"from {service}.database import ALL_MIGRATIONS" in main
    database = importlib.import_module(f"{service}.database")
    assert database.ALL_MIGRATIONS and callable(database.migrate)
    source = Path(database.__file__).read_text()
    assert "migrate_command(ALL_MIGRATIONS)" in source


def test_the_startup_reader_sees_an_inline_list() -> None:
    source = "async def f():\n    await migrated_pool(url, [event_bus.MIGRATIONS, MIGRATIONS], s)\n"
    assert startup_migrations(source) == "[event_bus.MIGRATIONS, MIGRATIONS]"
