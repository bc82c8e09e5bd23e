"""A credential's secret fields, sealed as one JSON document with ``sealed_secrets``.

The credential's id is the associated data, so a ciphertext copied onto another row (another
user's) does not open.
"""

from uuid import UUID

from provisioning.byok.schemas import ApiKeyCredentials, AwsCredentials
from sealed_secrets import Sealed, SecretBox

Secrets = ApiKeyCredentials | AwsCredentials


def seal(box: SecretBox, credential_id: UUID, secrets: Secrets) -> Sealed:
    return box.seal(secrets.model_dump_json(by_alias=True).encode(), context=credential_id.bytes)


def open_secrets(box: SecretBox, credential_id: UUID, provider: str, sealed: Sealed) -> Secrets:
    """Raises ``SecretNotReadable`` when its key is not configured or it was altered."""
    plaintext = box.open(sealed, context=credential_id.bytes)
    if provider == "bedrock":
        return AwsCredentials.model_validate_json(plaintext)
    return ApiKeyCredentials.model_validate_json(plaintext)


def last4(secrets: Secrets) -> str:
    shown = secrets.access_key_id if isinstance(secrets, AwsCredentials) else secrets.api_key
    return shown[-4:]
