import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from auth.config import DEV_PRIVATE_KEY_FILE, AuthSettings


@pytest.fixture
def real_key(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def production(monkeypatch, real_key):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(real_key))
    monkeypatch.setenv("RABBITMQ_URL", "amqp://platform:real@rabbitmq:5672/")
    for service in ("CHAT", "PROVISIONING", "ACCOUNTING", "GATEWAY"):
        monkeypatch.setenv(f"{service}_CLIENT_SECRET", f"a-real-{service.lower()}-secret")
    monkeypatch.setenv("MFA_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())


def test_production_with_real_secrets_starts(production):
    settings = AuthSettings()
    assert settings.seed_demo_users is False


def test_production_refuses_the_dev_signing_key(production, monkeypatch):
    monkeypatch.delenv("JWT_PRIVATE_KEY_FILE")
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY_FILE"):
        AuthSettings()


def test_production_refuses_a_copy_of_the_dev_signing_key(production, monkeypatch, tmp_path):
    copy = tmp_path / "copied.pem"
    copy.write_bytes(DEV_PRIVATE_KEY_FILE.read_bytes())
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(copy))
    with pytest.raises(ValidationError, match="development key"):
        AuthSettings()


def test_an_unreadable_key_file_is_named(production, monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY_FILE cannot be read"):
        AuthSettings()


def test_production_refuses_the_dev_broker_credentials(production, monkeypatch):
    monkeypatch.delenv("RABBITMQ_URL")
    with pytest.raises(ValidationError, match="RABBITMQ_URL"):
        AuthSettings()


def test_production_refuses_demo_users(production, monkeypatch):
    monkeypatch.setenv("SEED_DEMO_USERS", "true")
    with pytest.raises(ValidationError, match="SEED_DEMO_USERS"):
        AuthSettings()


def test_development_seeds_demo_users_by_default(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert AuthSettings().seed_demo_users is True


@pytest.mark.parametrize("service", ["CHAT", "PROVISIONING", "ACCOUNTING", "GATEWAY"])
def test_production_refuses_a_dev_client_secret(production, monkeypatch, service):
    monkeypatch.delenv(f"{service}_CLIENT_SECRET")
    with pytest.raises(ValidationError, match=f"{service}_CLIENT_SECRET"):
        AuthSettings()


def test_production_refuses_the_dev_mfa_key(production, monkeypatch):
    monkeypatch.delenv("MFA_ENCRYPTION_KEY")
    with pytest.raises(ValidationError, match="MFA_ENCRYPTION_KEY"):
        AuthSettings()


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("MFA_ENCRYPTION_KEY", "not base64!", "must be base64"),
        ("MFA_ENCRYPTION_KEY", base64.b64encode(b"short").decode(), "32 bytes, not 5"),
        ("MFA_PREVIOUS_ENCRYPTION_KEYS", "AAAA", "MFA_PREVIOUS_ENCRYPTION_KEYS must decode"),
        ("REQUIRE_2FA_ROLES", "admin,root", "unknown roles"),
    ],
)
def test_two_factor_settings_that_cannot_work_are_named(monkeypatch, variable, value, problem):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=problem):
        AuthSettings()


def test_required_roles_and_previous_keys_are_comma_lists(monkeypatch):
    old = [base64.b64encode(os.urandom(32)).decode() for _ in range(2)]
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("REQUIRE_2FA_ROLES", " admin , supervisor,")
    monkeypatch.setenv("MFA_PREVIOUS_ENCRYPTION_KEYS", ",".join(old))
    settings = AuthSettings()
    assert settings.roles_requiring_2fa == {"admin", "supervisor"}
    assert settings.mfa_keys[1] == [base64.b64decode(key) for key in old]
    assert AuthSettings(environment="test", require_2fa_roles="").roles_requiring_2fa == set()
