"""RABBITMQ_QUEUE_TYPE, which the production overlay sets to quorum, reaches every durable
queue: each consumer service reads it, and every EventConsumer a service builds is given it."""

from __future__ import annotations

import ast

import pytest
from k8s_code import settings_class
from k8s_manifests import ROOT
from pydantic import ValidationError

# The services that consume from durable queues.
CONSUMERS = ("auth", "accounting", "provisioning")


@pytest.mark.parametrize("service", CONSUMERS)
def test_each_consumer_service_reads_the_queue_type(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.delenv("RABBITMQ_QUEUE_TYPE", raising=False)
    assert settings_class(service)().rabbitmq_queue_type == "classic"
    monkeypatch.setenv("RABBITMQ_QUEUE_TYPE", "quorum")
    assert settings_class(service)().rabbitmq_queue_type == "quorum"
    monkeypatch.setenv("RABBITMQ_QUEUE_TYPE", "mirrored")
    with pytest.raises(ValidationError, match="rabbitmq_queue_type"):
        settings_class(service)()


def consumers_without_queue_type(source: str) -> list[int]:
    """The lines of ``EventConsumer(...)`` calls not given ``queue_type=settings....``."""
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "EventConsumer"
        ):
            continue
        given = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if given.get("queue_type") != "settings.rabbitmq_queue_type":
            missing.append(node.lineno)
    return missing


def test_every_event_consumer_is_given_the_setting() -> None:
    found = 0
    for main in sorted(ROOT.glob("services/*/src/*/main.py")):
        source = main.read_text()
        found += source.count("EventConsumer(")
        assert consumers_without_queue_type(source) == [], main
    assert found >= 5  # auth 1, accounting 2, provisioning 2


def test_the_check_finds_a_consumer_left_classic() -> None:
    source = "EventConsumer(url, 'q', ['k'], handler, exchange=settings.bus_exchange)\n"
    assert consumers_without_queue_type(source) == [1]
