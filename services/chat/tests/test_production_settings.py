"""In production chat refuses to start without what enforces plans and BYOK keys, or with a
development default of a provider's key."""

import pytest
from pydantic import ValidationError

from chat.config import ChatSettings

PRODUCTION_SECRETS = {
    "environment": "production",
    "rabbitmq_url": "amqp://chat:real@rabbitmq:5672/",
    "aws_access_key_id": "AKIAREALKEY",
    "aws_secret_access_key": "real-secret",
    "openai_api_key": "sk-real",
    "anthropic_api_key": "sk-ant-real",
    "service_client_secret": "a-real-client-secret",
}


@pytest.mark.parametrize("provisioning_url", [None, "", "  "])
def test_production_without_provisioning_is_refused(provisioning_url):
    with pytest.raises(ValidationError, match="PROVISIONING_URL"):
        ChatSettings(**PRODUCTION_SECRETS, provisioning_url=provisioning_url)


def test_production_with_provisioning_starts():
    settings = ChatSettings(**PRODUCTION_SECRETS, provisioning_url="http://provisioning:3004")
    assert settings.is_production and settings.provisioning_url == "http://provisioning:3004"


def test_outside_production_plans_may_be_left_off():
    assert ChatSettings(environment="development").provisioning_url is None


def test_production_refuses_the_development_anthropic_key():
    secrets = {k: v for k, v in PRODUCTION_SECRETS.items() if k != "anthropic_api_key"}
    with pytest.raises(ValidationError, match="ANTHROPIC_API_KEY"):
        ChatSettings(**secrets, provisioning_url="http://provisioning:3004")
