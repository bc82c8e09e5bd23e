"""Bedrock's ListFoundationModels and GetFoundationModel through boto3's own ``bedrock``
client: what chat's model sync and health probe read."""

import pytest
from botocore.exceptions import ClientError

from model_simulator.config import DEFAULT_MODELS

from ..conftest import HAIKU

pytestmark = pytest.mark.timeout(20)


def test_list_foundation_models_names_every_configured_model(bedrock_control):
    summaries = bedrock_control.list_foundation_models()["modelSummaries"]

    assert [s["modelId"] for s in summaries] == DEFAULT_MODELS
    haiku = next(s for s in summaries if s["modelId"] == HAIKU)
    # The ARN names the region the request was signed for.
    assert haiku["modelArn"] == f"arn:aws:bedrock:eu-west-3::foundation-model/{HAIKU}"
    assert haiku["providerName"] == "Anthropic"
    assert haiku["modelLifecycle"] == {"status": "ACTIVE"}
    assert haiku["inferenceTypesSupported"] == ["ON_DEMAND"]
    assert haiku["responseStreamingSupported"] is True
    assert haiku["outputModalities"] == ["TEXT"]


def test_the_filters_narrow_the_list(bedrock_control):
    by_provider = bedrock_control.list_foundation_models(byProvider="amazon")["modelSummaries"]
    provisioned = bedrock_control.list_foundation_models(byInferenceType="PROVISIONED")

    assert [s["modelId"] for s in by_provider] == ["amazon.titan-text-express-v1"]
    assert provisioned["modelSummaries"] == []
    assert bedrock_control.list_foundation_models(byOutputModality="TEXT")["modelSummaries"]


def test_get_foundation_model_answers_one_and_refuses_an_unknown_id(bedrock_control):
    details = bedrock_control.get_foundation_model(modelIdentifier=HAIKU)["modelDetails"]

    assert details["modelId"] == HAIKU
    with pytest.raises(ClientError) as refused:
        bedrock_control.get_foundation_model(modelIdentifier="vendor.no-such-model")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
