"""Auth service settings, each read from the environment variable of the same name."""

import base64
import binascii
from pathlib import Path

from pydantic import Field, model_validator

from auth.service_clients.registry import CLIENT_SCOPES, ServiceClient
from event_bus import QueueType
from jwt_contract import ROLES, Role
from pg_migrations import PostgresPoolSettings
from service_kit import ServiceSettings, dev_secret

DEV_PRIVATE_KEY_FILE = Path(__file__).parent / "keys" / "dev_private_key.pem"
# base64 of b"dev-only-2fa-key:public-NOT-SAFE": public, so refused in production.
DEV_MFA_ENCRYPTION_KEY = "ZGV2LW9ubHktMmZhLWtleTpwdWJsaWMtTk9ULVNBRkU="
MFA_KEY_BYTES = 32  # AES-256


class AuthSettings(PostgresPoolSettings, ServiceSettings):
    service_name: str = "auth"
    port: int = 3000

    database_url: str = "postgresql://postgres@127.0.0.1:5432/auth"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rabbitmq_url: str = dev_secret("amqp://guest:guest@127.0.0.1:5672/")
    bus_exchange: str = "platform.events"
    rabbitmq_queue_type: QueueType = Field(
        "classic",
        description="classic | quorum: the type of the durable queues its consumers declare "
        "(quorum on a replicated RabbitMQ cluster; an existing queue keeps its type)",
    )
    organization_deleted_queue: str = Field(
        "",
        description="Queue of organization.deleted (default auth.organization-deleted, named "
        "after BUS_EXCHANGE when that is not platform.events, so stacks on one broker that "
        "use different exchanges never share it)",
    )

    jwt_issuer: str = "llm-platform-auth"
    jwt_audience: str = "llm-platform"
    jwt_private_key_file: Path = dev_secret(
        DEV_PRIVATE_KEY_FILE, description="PEM file of the RSA (>= 2048 bits) or Ed25519 key"
    )
    access_token_ttl_seconds: int = Field(900, ge=30, le=86400)
    api_key_token_ttl_seconds: int = Field(300, ge=5, le=3600)
    refresh_token_ttl_seconds: int = Field(14 * 86400, ge=300)
    refresh_cookie_secure: bool | None = Field(
        None,
        description="Mark the refresh_token cookie Secure (HTTPS only); unset: on in production",
    )

    # One client of the client-credentials grant per service (see service_clients/registry.py
    # for what each may do); the defaults are the public dev_client_secret() of each service.
    chat_client_secret: str = dev_secret(
        "dev-chat-client-secret", description="The chat service's client secret"
    )
    provisioning_client_secret: str = dev_secret(
        "dev-provisioning-client-secret", description="The provisioning service's client secret"
    )
    accounting_client_secret: str = dev_secret(
        "dev-accounting-client-secret", description="The accounting service's client secret"
    )
    gateway_client_secret: str = dev_secret(
        "dev-gateway-client-secret", description="The gateway's client secret"
    )
    service_token_ttl_seconds: int = Field(600, ge=30, le=3600)
    max_personal_keys: int = Field(
        20, ge=1, le=1000, description="Live (unrevoked, unexpired) personal API keys per user"
    )

    @property
    def revocation_retention_seconds(self) -> int:
        """How long a revocation is listed: longer than any token it could refuse lives."""
        return max(self.access_token_ttl_seconds, self.api_key_token_ttl_seconds) + 300

    seed_demo_users: bool | None = Field(
        None, description="Create the demo users of CONTRACT.md; defaults to on outside production"
    )

    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19456, ge=8192)
    argon2_parallelism: int = Field(1, ge=1)
    hashing_concurrency: int = Field(4, ge=1, description="Password hashes computed at once")

    login_max_failures: int = Field(10, ge=1)
    login_max_failures_per_ip: int = Field(100, ge=1)
    login_failure_window_seconds: int = Field(900, ge=1)

    mfa_encryption_key: str = dev_secret(
        DEV_MFA_ENCRYPTION_KEY,
        description="base64 of 32 random bytes: the AES-256-GCM master key 2FA secrets are "
        "encrypted under (make one with `openssl rand -base64 32`)",
    )
    mfa_previous_encryption_keys: str = Field(
        "",
        description="Comma-separated older master keys (base64), still read for secrets "
        "encrypted under them until `auth-mfa-rekey` has re-encrypted those under "
        "MFA_ENCRYPTION_KEY",
    )
    mfa_issuer: str = Field(
        "LLM platform",
        min_length=1,
        max_length=100,
        description="The name authenticator apps show beside the account",
    )
    mfa_token_ttl_seconds: int = Field(
        300, ge=30, le=3600, description="How long the mfaToken of a password login lives"
    )
    mfa_max_attempts_per_token: int = Field(
        5, ge=1, le=100, description="Wrong codes one mfaToken takes before it is spent"
    )
    mfa_max_failures_per_user: int = Field(
        20,
        ge=1,
        description="Wrong 2FA codes per user from all addresses within "
        "LOGIN_FAILURE_WINDOW_SECONDS (LOGIN_MAX_FAILURES per user and address) before 429",
    )
    require_2fa_roles: str = Field(
        "",
        description="Comma-separated roles (enduser, supervisor, admin) whose users must set "
        "up 2FA before any auth route but /me, /logout, /refresh and /2fa/* works for them "
        "(403 mfa_setup_required)",
    )

    @property
    def roles_requiring_2fa(self) -> frozenset[Role]:
        return frozenset(role for role in ROLES if role in _words(self.require_2fa_roles))

    @property
    def mfa_keys(self) -> tuple[bytes, list[bytes]]:
        """The current master key and the older ones, decoded (checked at start-up)."""
        previous = _words(self.mfa_previous_encryption_keys)
        return (
            _mfa_key(self.mfa_encryption_key, "MFA_ENCRYPTION_KEY"),
            [_mfa_key(key, "MFA_PREVIOUS_ENCRYPTION_KEYS") for key in previous],
        )

    @model_validator(mode="after")
    def _two_factor_settings_are_valid(self) -> "AuthSettings":
        unknown = set(_words(self.require_2fa_roles)) - set(ROLES)
        if unknown:
            raise ValueError(
                f"REQUIRE_2FA_ROLES names unknown roles {sorted(unknown)}; "
                f"roles are {', '.join(ROLES)}"
            )
        _ = self.mfa_keys  # decoding raises a ValueError that names the wrong variable
        return self

    @model_validator(mode="after")
    def _queue_of_the_exchange(self) -> "AuthSettings":
        if not self.organization_deleted_queue:
            prefix = "" if self.bus_exchange == "platform.events" else f"{self.bus_exchange}."
            self.organization_deleted_queue = f"{prefix}auth.organization-deleted"
        return self

    @model_validator(mode="after")
    def _dev_key_never_in_production(self) -> "AuthSettings":
        if self.is_production and _pem_body(self.jwt_private_key_file) == _pem_body(
            DEV_PRIVATE_KEY_FILE
        ):
            raise ValueError(
                "JWT_PRIVATE_KEY_FILE holds the development key, which is public; "
                "generate a key of your own for production"
            )
        return self

    @model_validator(mode="after")
    def _demo_users_never_in_production(self) -> "AuthSettings":
        if self.seed_demo_users is None:
            self.seed_demo_users = not self.is_production
        elif self.seed_demo_users and self.is_production:
            raise ValueError("SEED_DEMO_USERS must not be true when ENVIRONMENT=production")
        return self


def _pem_body(path: Path) -> bytes:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ValueError(f"JWT_PRIVATE_KEY_FILE cannot be read: {exc}") from exc
    return b"".join(line.strip() for line in lines if not line.startswith(b"#"))


def _words(text: str) -> list[str]:
    return [word.strip() for word in text.split(",") if word.strip()]


def _mfa_key(text: str, variable: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{variable} must be base64 (of {MFA_KEY_BYTES} random bytes)") from None
    if len(key) != MFA_KEY_BYTES:
        raise ValueError(f"{variable} must decode to {MFA_KEY_BYTES} bytes, not {len(key)}")
    return key


def service_clients(settings: AuthSettings) -> dict[str, ServiceClient]:
    secrets = {
        "chat": settings.chat_client_secret,
        "provisioning": settings.provisioning_client_secret,
        "accounting": settings.accounting_client_secret,
        "gateway": settings.gateway_client_secret,
    }
    return {
        name: ServiceClient(name, secrets[name], scopes) for name, scopes in CLIENT_SCOPES.items()
    }
