"""TOTP (RFC 6238: 30 s steps, 6 digits, HMAC-SHA1, as every authenticator app reads it) with
``pyotp``, and the QR code of its ``otpauth://`` URI with ``segno``."""

import io
import time

import pyotp
import segno
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6
# A code of the step before or after the current one is still accepted (a phone's clock a few
# seconds off, or a code typed just as it turned): RFC 6238 §5.2's one step of drift.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits in base32 (RFC 4226 §4's recommended length)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """A standalone SVG document (with its namespace, so it also works as an ``<img>``)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=4,
        title="Scan with your authenticator app",
    )
    return out.getvalue().decode()


def looks_like_totp(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(
    secret: str, code: str, *, after_step: int, now: float | None = None
) -> int | None:
    """The time step whose code ``code`` is, within the drift, if it is later than
    ``after_step`` (the last step accepted: a code is never accepted twice); else None."""
    totp = _totp(secret)
    current = totp.timecode(time.time() if now is None else now)
    matched = None
    # Every candidate is compared (in constant time), so timing does not tell which matched.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if strings_equal(code, totp.generate_otp(step)) and step > after_step:
            matched = step
    return matched


def code_at(secret: str, step: int) -> str:
    """The code of one time step (for tests and tools)."""
    return _totp(secret).generate_otp(step)


def step_of(now: float) -> int:
    return int(now // STEP_SECONDS)


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
