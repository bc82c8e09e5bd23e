"""Each rule of verifier.py's docstring refused on its own, with a good signature otherwise:
the header's alg is the kid's key's algorithm, crit is refused, the claims are present and
right, and the leeway is what it says."""

import json
import time

import jwt
import pytest

from jwt_contract import InvalidToken, StaticKeySet, TokenVerifier

from .conftest import AUDIENCE, ISSUER, forge, valid_claims


def signed(key, claims, **header) -> str:
    """``claims`` signed by ``key`` with its own kid and algorithm, plus ``header``."""
    return jwt.encode(claims, key.private_key, key.algorithm, headers={"kid": key.kid, **header})


def service_claims(**overrides):
    claims = valid_claims(type="service", scope="credits:settle")
    for name in ("username", "email", "role"):
        del claims[name]
    claims.update(overrides)
    return claims


def without(claims: dict, name: str) -> dict:
    return {key: value for key, value in claims.items() if key != name}


def test_a_kid_fixes_the_algorithm_between_the_platforms_own_key_types(rsa_key, ed_key, verifier):
    eddsa_as_rsa = jwt.encode(
        valid_claims(), ed_key.private_key, "EdDSA", headers={"kid": rsa_key.kid}
    )
    rsa_as_eddsa = jwt.encode(
        valid_claims(), rsa_key.private_key, "RS256", headers={"kid": ed_key.kid}
    )
    for token in (eddsa_as_rsa, rsa_as_eddsa):
        with pytest.raises(InvalidToken, match="does not match"):
            verifier.verify(token)


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS512", "PS256", "ES256", "rs256"])
def test_any_other_alg_on_a_kid_is_refused(rsa_key, verifier, alg):
    token = forge({"alg": alg, "kid": rsa_key.kid}, valid_claims(), b"\x00" * 256)
    with pytest.raises(InvalidToken, match="does not match"):
        verifier.verify(token)


@pytest.mark.parametrize("alg", ["none", "NONE", "None"])
def test_alg_none_is_refused_in_any_spelling(rsa_key, verifier, alg):
    with pytest.raises(InvalidToken, match="none"):
        verifier.verify(forge({"alg": alg, "kid": rsa_key.kid}, valid_claims()))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"kid": "k"}, "alg"),
        ({"alg": 256, "kid": "k"}, "alg"),
        ({"alg": "RS256"}, "kid"),
        ({"alg": "RS256", "kid": ""}, "kid"),
        ({"alg": "RS256", "kid": 7}, "kid"),
    ],
    ids=["no-alg", "alg-not-a-string", "no-kid", "empty-kid", "kid-not-a-string"],
)
def test_a_header_without_a_usable_alg_or_kid_is_refused(verifier, header, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(forge(header, valid_claims()))


@pytest.mark.parametrize("crit", [[], ["b64"], ["exp"], "exp"])
def test_any_crit_header_is_refused_even_one_a_library_would_understand(rsa_key, verifier, crit):
    with pytest.raises(InvalidToken, match="crit"):
        verifier.verify(signed(rsa_key, valid_claims(), crit=crit))


def test_a_crit_header_is_refused_before_its_kid_is_looked_up(verifier):
    # Refused as invalid, not as an unknown kid, which would send the verifier to the JWKS.
    with pytest.raises(InvalidToken, match="crit"):
        verifier.verify(forge({"alg": "RS256", "kid": "unknown", "crit": ["x"]}, valid_claims()))


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        ("iss", "issuer"),
        ("aud", "audience"),
        ("type", "access"),
        ("role", "role"),
        ("sub", "identity"),
        ("username", "identity"),
        ("email", "identity"),
        ("jti", "identity"),
    ],
)
def test_an_access_token_missing_a_claim_is_refused(rsa_key, verifier, claim, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(signed(rsa_key, without(valid_claims(), claim)))


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("sub", 123, "identity"),
        ("email", None, "identity"),
        ("exp", str(int(time.time()) + 60), "exp"),
        ("exp", True, "exp"),
        ("aud", [], "audience"),
        ("aud", ["someone-else"], "audience"),
    ],
    ids=["sub-number", "email-null", "exp-string", "exp-bool", "aud-empty", "aud-other"],
)
def test_a_claim_of_the_wrong_type_is_refused(rsa_key, verifier, claim, value, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(signed(rsa_key, valid_claims(**{claim: value})))


def test_an_audience_list_naming_this_audience_is_accepted(rsa_key, verifier):
    token = signed(rsa_key, valid_claims(aud=["another", AUDIENCE]))
    assert verifier.verify(token).user_id == "u-1"


@pytest.mark.parametrize(
    ("claim", "reason"), [("scope", "scope"), ("sub", "identity"), ("jti", "identity")]
)
def test_a_service_token_missing_a_claim_is_refused(rsa_key, verifier, claim, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify_service(signed(rsa_key, without(service_claims(), claim)))


def test_a_service_token_whose_scope_is_not_a_string_is_refused(rsa_key, verifier):
    with pytest.raises(InvalidToken, match="scope"):
        verifier.verify_service(signed(rsa_key, service_claims(scope=["credits:settle"])))


def test_the_leeway_covers_clock_skew_and_no_more(rsa_key, verifier):
    now = int(time.time())
    assert verifier.leeway == 30
    assert verifier.verify(signed(rsa_key, valid_claims(exp=now - 10)))
    assert verifier.verify(signed(rsa_key, valid_claims(iat=now + 10)))
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(signed(rsa_key, valid_claims(exp=now - 60)))
    with pytest.raises(InvalidToken, match="future"):
        verifier.verify(signed(rsa_key, valid_claims(iat=now + 60)))


def test_a_verifier_without_leeway_refuses_a_just_expired_token(rsa_key):
    strict = TokenVerifier(
        StaticKeySet([rsa_key.verification_key()]),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway_seconds=0,
    )
    with pytest.raises(InvalidToken, match="expired"):
        strict.verify(signed(rsa_key, valid_claims(exp=int(time.time()) - 2)))


def test_a_header_that_is_not_a_json_object_is_refused(rsa_key, verifier):
    token = forge([{"alg": "RS256", "kid": rsa_key.kid}], valid_claims())
    with pytest.raises(InvalidToken, match="header is not a JSON object"):
        verifier.verify(token)


def test_a_signed_payload_that_is_not_a_json_object_is_refused(rsa_key, verifier):
    payload = json.dumps([valid_claims()]).encode()
    token = jwt.PyJWS().encode(payload, rsa_key.private_key, "RS256", headers={"kid": rsa_key.kid})
    with pytest.raises(InvalidToken, match="payload is not a JSON object"):
        verifier.verify(token)
