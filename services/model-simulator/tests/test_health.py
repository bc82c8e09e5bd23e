import httpx
import pytest

from model_simulator.config import SimulatorSettings

pytestmark = pytest.mark.timeout(20)


def test_health_says_it_is_a_development_and_test_backend(simulator_url):
    body = httpx.get(f"{simulator_url}/api/health").json()

    assert body["status"] == "ok"
    assert body["service"] == "model-simulator"
    assert "development and test backend" in body["purpose"]


def test_it_is_always_ready_and_exports_metrics(simulator_url):
    ready = httpx.get(f"{simulator_url}/api/health/ready")
    metrics = httpx.get(f"{simulator_url}/metrics")

    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert "model_simulator_tokens_generated_total" in metrics.text


def test_the_openapi_document_names_it_and_its_knobs(simulator_url):
    document = httpx.get(f"{simulator_url}/openapi.json").json()

    assert "development and test backend" in document["info"]["title"]
    description = document["info"]["description"]
    assert "x-sim-fault" in description and "cut-after=N" in description
    assert {"/model/{model_id}/converse-stream", "/v1/chat/completions"} <= set(document["paths"])


def test_settings_defaults_and_environment(monkeypatch):
    defaults = SimulatorSettings()
    monkeypatch.setenv("TOKENS_PER_SECOND", "7.5")
    monkeypatch.setenv("FIRST_TOKEN_DELAY_MS", "0")

    configured = SimulatorSettings()

    assert (defaults.port, defaults.service_name) == (3005, "model-simulator")
    assert (defaults.first_token_delay_ms, defaults.tokens_per_second) == (50, 50)
    assert defaults.answer_tokens == 60
    assert (configured.tokens_per_second, configured.first_token_delay_ms) == (7.5, 0)
