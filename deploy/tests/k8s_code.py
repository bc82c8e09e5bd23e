"""What the services' own code says the manifests must give them: the peers their settings
name a URL of, the settings they mark as secrets, their console scripts."""

from __future__ import annotations

import importlib
import tomllib
from typing import Any

from k8s_manifests import ROOT, SERVICE_PORTS, SIMULATOR

from service_kit.settings import _DEV_SECRET_MARK

SETTINGS = {
    "auth": "auth.config:AuthSettings",
    "accounting": "accounting.config:AccountingSettings",
    "chat": "chat.config:ChatSettings",
    "provisioning": "provisioning.config:ProvisioningSettings",
    "gateway": "gateway.config:GatewaySettings",
    SIMULATOR: "model_simulator.config:SimulatorSettings",
}


def settings_class(service: str) -> Any:
    module, cls = SETTINGS[service].split(":")
    return getattr(importlib.import_module(module), cls)


def settings_fields(service: str) -> dict[str, Any]:
    fields: dict[str, Any] = settings_class(service).model_fields
    return fields


def peers_in_code() -> dict[str, set[str]]:
    """The services each one's settings name a URL of (``accounting_url``, ...)."""
    peers = {*SERVICE_PORTS}
    return {
        service: {name.removesuffix("_url") for name in settings_fields(service)} & peers
        for service in SETTINGS
    }


def dev_secrets_in_code() -> dict[str, set[str]]:
    """The environment variables each service marks as secrets (``service_kit.dev_secret``)."""
    return {
        service: {
            name.upper()
            for name, info in settings_fields(service).items()
            if isinstance(info.json_schema_extra, dict)
            and info.json_schema_extra.get(_DEV_SECRET_MARK)
        }
        for service in SETTINGS
    }


def console_scripts() -> dict[str, set[str]]:
    scripts = {}
    for service in SERVICE_PORTS:
        project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
        scripts[service] = set(project["project"].get("scripts", {}))
    return scripts


def observe_max_seconds() -> float:
    """The longest an observed chat stream may last: the Ingress must let it idle that long."""
    seconds: float = settings_fields("chat")["observe_max_seconds"].default
    return seconds
