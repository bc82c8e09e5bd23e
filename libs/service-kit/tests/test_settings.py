import logging

import orjson
import pytest
from pydantic import ValidationError

from service_kit import ServiceSettings, dev_secret
from service_kit.logs import JsonFormatter
from service_kit.request_context import request_id_var


class Settings(ServiceSettings):
    signing_secret: str = dev_secret("dev-only-signing-secret")


def test_dev_default_secret_is_fine_in_development(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert Settings().signing_secret == "dev-only-signing-secret"


def test_production_refuses_a_dev_default_and_names_the_variable(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="SIGNING_SECRET"):
        Settings()


def test_production_refuses_an_empty_secret(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SIGNING_SECRET", "  ")
    with pytest.raises(ValidationError, match="SIGNING_SECRET is empty"):
        Settings()


def test_no_environment_refuses_to_start(monkeypatch):
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="environment"):
        Settings()


def test_production_accepts_a_real_secret(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SIGNING_SECRET", "a-real-one")
    assert Settings().signing_secret == "a-real-one"


def test_log_lines_are_json_with_request_id_and_extras():
    record = logging.LogRecord("svc", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.userId = "u-1"
    token = request_id_var.set("req-9")
    try:
        line = JsonFormatter("auth").format(record)
    finally:
        request_id_var.reset(token)
    entry = orjson.loads(line)
    assert entry["message"] == "hello world"
    assert entry["service"] == "auth"
    assert entry["requestId"] == "req-9"
    assert entry["userId"] == "u-1"
