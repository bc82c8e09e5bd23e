"""A model made unavailable or slow through /sim/models, as boto3 and the openai package see
it; and back to normal."""

import time

import openai as sdk
import pytest
from botocore.exceptions import ClientError

from model_simulator.config import SimulatorSettings
from model_simulator.main import create_app

from ..conftest import HAIKU, user_turn

pytestmark = pytest.mark.timeout(20)

GPT = "gpt-4o-mini"


def listed(bedrock_control, openai) -> tuple[set[str], set[str]]:
    bedrock_ids = {s["modelId"] for s in bedrock_control.list_foundation_models()["modelSummaries"]}
    return bedrock_ids, {m.id for m in openai.models.list()}


def test_an_unavailable_model_leaves_both_lists_and_every_call_answers_503(
    conditions, bedrock, bedrock_control, openai
):
    for model in (HAIKU, GPT):
        made = conditions.put(f"/sim/models/{model}", json={"available": False})
        assert made.status_code == 200, made.text
        assert made.json() == {"modelId": model, "available": False, "extraLatencyMs": 0}

    bedrock_ids, openai_ids = listed(bedrock_control, openai)
    assert HAIKU not in bedrock_ids and GPT not in openai_ids
    assert "amazon.titan-text-express-v1" in bedrock_ids  # the others are served as before
    with pytest.raises(ClientError) as refused:
        bedrock.converse(modelId=HAIKU, messages=user_turn("hi"))
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    with pytest.raises(ClientError):
        bedrock.converse_stream(modelId=HAIKU, messages=user_turn("hi"))
    with pytest.raises(sdk.InternalServerError) as failed:
        openai.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "hi"}])
    assert failed.value.status_code == 503
    with pytest.raises(sdk.NotFoundError):
        openai.models.retrieve(GPT)
    with pytest.raises(ClientError):
        bedrock_control.get_foundation_model(modelIdentifier=HAIKU)
    assert {m["modelId"] for m in conditions.get("/sim/models").json()["models"]} == {HAIKU, GPT}

    assert conditions.delete(f"/sim/models/{HAIKU}").status_code == 204
    assert conditions.put(f"/sim/models/{GPT}", json={}).status_code == 200  # the normal condition

    bedrock_ids, openai_ids = listed(bedrock_control, openai)
    assert HAIKU in bedrock_ids and GPT in openai_ids
    assert bedrock.converse(modelId=HAIKU, messages=user_turn("hi"))["stopReason"] == "end_turn"
    assert conditions.get("/sim/models").json() == {"models": []}


def test_a_slow_model_waits_before_its_first_token(conditions, bedrock, openai):
    assert conditions.put(f"/sim/models/{HAIKU}", json={"extraLatencyMs": 400}).status_code == 200
    assert conditions.put(f"/sim/models/{GPT}", json={"extraLatencyMs": 400}).status_code == 200

    started = time.monotonic()
    stream = bedrock.converse_stream(modelId=HAIKU, messages=user_turn("hi"))["stream"]
    first_delta = next(e for e in stream if "contentBlockDelta" in e)
    bedrock_wait = time.monotonic() - started
    started = time.monotonic()
    openai.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "hi"}], max_tokens=1
    )
    openai_wait = time.monotonic() - started
    started = time.monotonic()
    bedrock.converse(modelId="amazon.titan-text-express-v1", messages=user_turn("hi"))
    others_wait = time.monotonic() - started

    assert first_delta["contentBlockDelta"]["delta"]["text"]
    assert bedrock_wait >= 0.4 and openai_wait >= 0.4
    assert others_wait < 0.4


def test_a_condition_out_of_range_is_refused(conditions):
    assert conditions.put(f"/sim/models/{HAIKU}", json={"extraLatencyMs": -1}).status_code == 422
    assert conditions.put(f"/sim/models/{HAIKU}", json={"available": "no"}).status_code == 422
    assert conditions.put(f"/sim/models/{HAIKU}", json={"extraLatencyMs": "5"}).status_code == 422
    assert conditions.put(f"/sim/models/{HAIKU}", json={"availble": False}).status_code == 422
    assert conditions.get("/sim/models").json() == {"models": []}


def test_production_serves_no_control_route():
    app = create_app(SimulatorSettings(environment="production"))
    paths = set(app.openapi()["paths"])

    assert not any(path.startswith("/sim") for path in paths)
    assert "/foundation-models" in paths
