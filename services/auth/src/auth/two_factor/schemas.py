from typing import Literal

from pydantic import Field, StrictStr

from service_kit import CamelModel

# Plain strings: a code no one can have (a NUL, say) is a wrong code, not a 422.
Code = StrictStr


class SetupResponse(CamelModel):
    secret: str = Field(
        description="The TOTP secret in base32, for typing into an authenticator app"
    )
    otpauth_uri: str = Field(
        description="`otpauth://totp/...` (30 s, 6 digits, SHA-1): what the QR code holds",
        examples=[
            "otpauth://totp/LLM%20platform:user1?secret=JBSWY3DPEHPK3PXP&issuer=LLM%20platform"
        ],
    )
    qr_svg: str = Field(description="The otpauth URI as a QR code, a standalone SVG document")


class CodeRequest(CamelModel):
    code: Code = Field(
        min_length=1,
        max_length=64,
        description="The authenticator's 6-digit code, or (where said) an unused backup code",
        examples=["123456"],
    )


class VerifyResponse(CamelModel):
    enabled: Literal[True]
    backup_codes: list[str] = Field(
        description="Ten single-use codes for when the authenticator is not at hand: shown "
        "only here (stored hashed), each works once in place of a code",
        examples=[["k3m9p-x7q2a", "..."]],
    )


class MfaRequired(CamelModel):
    """A right password of a user with 2FA on: the login goes on at ``/login/2fa``."""

    mfa_required: Literal[True]
    mfa_token: str = Field(
        description="Send it with a code to `POST /api/auth/login/2fa`; it lives "
        "`MFA_TOKEN_TTL_SECONDS` (300), works once, and is no access token anywhere"
    )


class MfaLoginRequest(CamelModel):
    mfa_token: StrictStr = Field(min_length=1, max_length=200)
    code: Code = Field(
        min_length=1,
        max_length=64,
        description="The authenticator's 6-digit code or an unused backup code",
        examples=["123456"],
    )
