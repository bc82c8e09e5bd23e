"""BYOK_ENCRYPTION_KEY: a development default refused in production, and a key that is not
32 bytes of base64 named at start-up."""

import base64
import os

import pytest
from pydantic import ValidationError

from provisioning.config import ProvisioningSettings

REAL = {
    "environment": "production",
    "rabbitmq_url": "amqp://u:p@mq:5672/",
    "service_client_secret": "a-real-secret",
}


def test_the_development_key_is_refused_in_production():
    with pytest.raises(ValidationError, match="BYOK_ENCRYPTION_KEY"):
        ProvisioningSettings(**REAL)
    key = base64.b64encode(os.urandom(32)).decode()
    assert ProvisioningSettings(**REAL, byok_encryption_key=key).byok_keys[0] == base64.b64decode(
        key
    )


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("byok_encryption_key", "BYOK_ENCRYPTION_KEY"),
        ("byok_previous_encryption_keys", "BYOK_PREVIOUS_ENCRYPTION_KEYS"),
    ],
)
def test_a_key_that_is_not_32_bytes_names_its_variable(field, variable):
    with pytest.raises(ValidationError, match=variable):
        ProvisioningSettings(environment="test", **{field: base64.b64encode(b"short").decode()})
