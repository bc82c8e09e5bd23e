"""The simulator checks the key it is given (OpenAI-compatible bearer, Anthropic x-api-key,
Bedrock SigV4 access key id) by its documented rule, and records each request's key by
fingerprint only."""

import boto3
import httpx
import openai
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from model_simulator.keys import fingerprint

from ..conftest import HAIKU

pytestmark = pytest.mark.timeout(30)


def control_client(url: str, access_key_id: str):
    return boto3.client(
        "bedrock",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key="whatever-secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=5),
    )


def recent(url: str) -> list[dict]:
    response = httpx.get(f"{url}/sim/requests", params={"limit": 20})
    assert response.status_code == 200
    return response.json()["requests"]


def test_an_openai_client_with_a_sim_key_is_answered_and_recorded_by_fingerprint(simulator_url):
    key = "sk-sim-alice-0001"
    client = openai.OpenAI(base_url=f"{simulator_url}/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content
    records = recent(simulator_url)
    newest = next(r for r in records if r["path"] == "/v1/chat/completions")
    assert newest["keyKind"] == "bearer"
    assert newest["keyFingerprint"] == fingerprint(key)
    assert newest["accepted"] is True
    assert key not in httpx.get(f"{simulator_url}/sim/requests").text


def test_a_wrong_bearer_key_is_401_invalid_api_key(simulator_url):
    client = openai.OpenAI(base_url=f"{simulator_url}/v1", api_key="sk-wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()
    assert refused.value.code == "invalid_api_key"
    assert recent(simulator_url)[0]["accepted"] is False


def test_the_development_keys_still_work(simulator_url):
    for key in ("sk-simulator", "test"):
        response = httpx.get(
            f"{simulator_url}/v1/models", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, key


def test_anthropic_models_list_checks_x_api_key_and_answers_anthropics_shape(simulator_url):
    good = httpx.get(f"{simulator_url}/v1/models", headers={"x-api-key": "sk-sim-anthropic-1"})
    assert good.status_code == 200
    body = good.json()
    assert body["has_more"] is False and body["data"][0]["type"] == "model"
    bad = httpx.get(f"{simulator_url}/v1/models", headers={"x-api-key": "sk-ant-not-valid"})
    assert bad.status_code == 401
    assert bad.json()["error"]["type"] == "authentication_error"


def test_bedrock_checks_the_sigv4_access_key_id(simulator_url):
    models = control_client(simulator_url, "AKIASIMEXAMPLE01").list_foundation_models()
    assert models["modelSummaries"]
    assert recent(simulator_url)[0]["keyFingerprint"] == fingerprint("AKIASIMEXAMPLE01")
    with pytest.raises(ClientError) as refused:
        control_client(simulator_url, "AKIAWRONGKEY0001").list_foundation_models()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_refused_bedrock_key_gets_no_answer(simulator_url):
    runtime = boto3.client(
        "bedrock-runtime",
        endpoint_url=simulator_url,
        region_name="us-east-1",
        aws_access_key_id="AKIAWRONGKEY0002",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(ClientError) as refused:
        runtime.converse(modelId=HAIKU, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
