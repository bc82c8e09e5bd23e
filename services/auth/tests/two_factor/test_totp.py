"""TOTP codes as RFC 6238 defines them, one step of drift, and no code accepted twice."""

import base64

import pyotp

from auth.two_factor import backup_codes, totp

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; at T = 59 s the 8-digit code is
# 94287082, so the 6-digit one is its last six digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_the_rfc_6238_test_vector():
    assert totp.code_at(RFC_SECRET, totp.step_of(59)) == "287082"
    assert totp.matching_step(RFC_SECRET, "287082", after_step=-1, now=59) == 1


def test_one_step_of_drift_either_way_and_no_more():
    secret = totp.new_secret()
    now = 1_000_000 * 30 + 10
    step = totp.step_of(now)
    for offset in (-1, 0, 1):
        code = totp.code_at(secret, step + offset)
        assert totp.matching_step(secret, code, after_step=-1, now=now) == step + offset
    for offset in (-2, 2):
        code = totp.code_at(secret, step + offset)
        assert totp.matching_step(secret, code, after_step=-1, now=now) is None


def test_a_code_of_a_step_already_used_or_earlier_is_refused():
    secret = totp.new_secret()
    now = 2_000_000 * 30 + 5
    step = totp.step_of(now)
    code = totp.code_at(secret, step)
    assert totp.matching_step(secret, code, after_step=step, now=now) is None
    assert (
        totp.matching_step(secret, totp.code_at(secret, step - 1), after_step=step, now=now) is None
    )
    later = totp.code_at(secret, step + 1)
    assert totp.matching_step(secret, later, after_step=step, now=now) == step + 1


def test_the_uri_is_what_authenticator_apps_read():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account="alice", issuer="LLM platform")
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.digits, parsed.interval) == (secret, 6, 30)
    assert uri.startswith("otpauth://totp/LLM%20platform:alice?")
    assert len(base64.b32decode(secret)) == 20  # 160 bits


def test_the_qr_code_is_a_standalone_svg():
    svg = totp.qr_svg("otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert svg.endswith("</svg>")


def test_backup_codes_are_ten_distinct_and_never_look_like_totp():
    codes = backup_codes.new_codes()
    assert len(codes) == len(set(codes)) == 10
    for code in codes:
        assert len(code) == 11 and code[5] == "-"
        compact = backup_codes.normalized(code)
        assert backup_codes.looks_like_backup_code(compact)
        assert not totp.looks_like_totp(compact)
    assert backup_codes.normalized(" ABCDE-fghjk ") == "abcdefghjk"
