import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_contract import InvalidToken, SigningKey, TokenSigner, UnknownKey, VerificationKey

from .conftest import AUDIENCE, ISSUER, b64, forge, issue, pem, valid_claims


def test_a_signed_access_token_verifies_to_its_principal(signer, verifier):
    principal = verifier.verify(issue(signer, role="supervisor"))
    assert principal.user_id == "u-1"
    assert principal.username == "user1"
    assert principal.role == "supervisor"
    assert principal.token_type == "access"


def test_eddsa_tokens_verify_too(ed_key, verifier):
    token = issue(TokenSigner(ed_key, issuer=ISSUER, audience=AUDIENCE))
    assert verifier.verify(token).email == "user1@example.com"


def test_alg_none_is_rejected(rsa_key, verifier):
    token = forge({"alg": "none", "kid": rsa_key.kid}, valid_claims())
    with pytest.raises(InvalidToken, match="none"):
        verifier.verify(token)


def test_hmac_signed_with_the_public_key_is_rejected(rsa_key, verifier):
    public_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64(json.dumps({"alg": "HS256", "kid": rsa_key.kid, "typ": "JWT"}).encode())
    body = b64(json.dumps(valid_claims()).encode())
    mac = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="does not match"):
        verifier.verify(f"{head}.{body}.{b64(mac)}")


def test_unknown_kid_is_rejected(verifier):
    stranger = SigningKey.from_pem(pem(rsa.generate_private_key(65537, 2048)))
    token = issue(TokenSigner(stranger, issuer=ISSUER, audience=AUDIENCE))
    with pytest.raises(UnknownKey):
        verifier.verify(token)


def test_a_stranger_reusing_a_known_kid_fails_the_signature(rsa_key, verifier):
    stranger = rsa.generate_private_key(65537, 2048)
    token = jwt.encode(valid_claims(), stranger, algorithm="RS256", headers={"kid": rsa_key.kid})
    with pytest.raises(InvalidToken, match="bad signature"):
        verifier.verify(token)


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("iss", "someone-else", "issuer"),
        ("aud", "other-audience", "audience"),
        ("exp", int(time.time()) - 3600, "expired"),
        ("type", "refresh", "access"),
        ("role", "superuser", "role"),
        ("sub", "", "identity"),
    ],
    ids=["issuer", "audience", "expired", "refresh-type", "role", "subject"],
)
def test_wrong_claims_are_rejected(rsa_key, verifier, claim, value, reason):
    token = jwt.encode(
        valid_claims(**{claim: value}), rsa_key.private_key, "RS256", headers={"kid": rsa_key.kid}
    )
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(token)


def test_missing_exp_is_rejected(rsa_key, verifier):
    claims = valid_claims()
    del claims["exp"]
    token = jwt.encode(claims, rsa_key.private_key, "RS256", headers={"kid": rsa_key.kid})
    with pytest.raises(InvalidToken, match="exp"):
        verifier.verify(token)


def test_a_refresh_token_is_not_an_access_token(signer, verifier):
    refresh = issue(signer, token_type="refresh")
    with pytest.raises(InvalidToken):
        verifier.verify(refresh)
    assert verifier.verify(refresh, expected_type="refresh").token_type == "refresh"


def test_every_single_character_change_is_rejected(signer, verifier):
    token = issue(signer)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = []
    for i, char in enumerate(token):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        tampered = token[:i] + replacement + token[i + 1 :]
        try:
            verifier.verify(tampered)
        except InvalidToken:
            continue
        accepted.append(i)
    assert accepted == []


def test_stray_characters_in_the_signature_are_rejected(signer, verifier):
    token = issue(signer)
    with pytest.raises(InvalidToken, match="base64url"):
        verifier.verify(token[:-10] + "!" + token[-10:])


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c.d", "e30.e30.", "###.###.###"])
def test_garbage_is_rejected(verifier, garbage):
    with pytest.raises(InvalidToken):
        verifier.verify(garbage)


def test_crit_header_is_rejected(rsa_key, verifier):
    token = jwt.encode(
        valid_claims(),
        rsa_key.private_key,
        "RS256",
        headers={"kid": rsa_key.kid, "crit": ["exp"]},
    )
    with pytest.raises(InvalidToken, match="crit"):
        verifier.verify(token)


def test_jwk_round_trip_keeps_kid_and_algorithm(rsa_key, ed_key):
    for key in (rsa_key, ed_key):
        jwk = key.verification_key().to_jwk()
        back = VerificationKey.from_jwk(jwk)
        assert (back.kid, back.algorithm) == (key.kid, key.algorithm)
        assert "d" not in jwk


def test_small_rsa_keys_are_refused():
    with pytest.raises(ValueError, match="2048"):
        SigningKey.from_pem(pem(rsa.generate_private_key(65537, 1024)))
