"""A verifier that remembers signatures it checked (``remember``) still checks everything
else on every call: revocations, expiry, the type, and that the key is still the one."""

import pytest

from jwt_contract import InvalidToken, Revocations, StaticKeySet, TokenVerifier
from jwt_contract import verifier as verifier_module

from .conftest import AUDIENCE, ISSUER, issue


class SwappableKeys(StaticKeySet):
    """A key set whose keys a test replaces, as a JWKS reload does."""

    def replace(self, keys) -> None:
        self._keys = {key.kid: key for key in keys}


def remembering(rsa_key, **kwargs) -> TokenVerifier:
    return TokenVerifier(
        StaticKeySet([rsa_key.verification_key()]),
        issuer=ISSUER,
        audience=AUDIENCE,
        remember=10,
        **kwargs,
    )


def count_signature_checks(monkeypatch) -> list[int]:
    checks = [0]
    original = verifier_module._canonical_signature

    def counted(segment: str) -> bytes:
        checks[0] += 1
        return original(segment)

    monkeypatch.setattr(verifier_module, "_canonical_signature", counted)
    return checks


def test_a_token_sent_again_is_not_checked_again(rsa_key, signer, monkeypatch):
    checks = count_signature_checks(monkeypatch)
    verifier = remembering(rsa_key)
    token = issue(signer)
    first = verifier.verify(token)
    again = verifier.verify(token)
    assert checks[0] == 1
    assert again.user_id == first.user_id == "u-1"
    assert again.claims == first.claims and again.claims is not first.claims


def test_without_remember_every_call_checks_the_signature(verifier, signer, monkeypatch):
    checks = count_signature_checks(monkeypatch)
    token = issue(signer)
    verifier.verify(token)
    verifier.verify(token)
    assert checks[0] == 2


def test_a_remembered_token_is_refused_once_revoked(rsa_key, signer):
    revocations = Revocations()
    verifier = remembering(rsa_key, revocations=revocations)
    token = issue(signer, tv=0)
    verifier.verify(token)
    revocations.revoke_user_tokens("u-1", below_version=1)
    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(token)


def test_a_remembered_token_is_refused_once_expired(rsa_key, signer, monkeypatch):
    verifier = remembering(rsa_key)
    token = issue(signer, ttl=60)
    verifier.verify(token)
    later = verifier_module.time.time() + 60 + verifier.leeway + 1
    monkeypatch.setattr(verifier_module.time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_a_remembered_token_of_another_type_is_still_refused(rsa_key, signer):
    verifier = remembering(rsa_key)
    token = issue(signer, token_type="refresh")
    verifier.verify(token, "refresh")
    with pytest.raises(InvalidToken, match="not an access token"):
        verifier.verify(token)


def test_a_withdrawn_or_reloaded_key_makes_it_checked_again(rsa_key, ed_key, signer, monkeypatch):
    keys = SwappableKeys([rsa_key.verification_key()])
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, remember=10)
    token = issue(signer)
    verifier.verify(token)
    keys.replace([ed_key.verification_key()])  # the signing key is gone
    with pytest.raises(InvalidToken):
        verifier.verify(token)
    checks = count_signature_checks(monkeypatch)
    keys.replace([rsa_key.verification_key()])  # back, as a new object (a reload)
    assert verifier.verify(token).user_id == "u-1"
    assert checks[0] == 1


def test_a_tampered_copy_is_not_taken_for_the_remembered_token(rsa_key, signer):
    verifier = remembering(rsa_key)
    token = issue(signer)
    verifier.verify(token)
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(InvalidToken):
        verifier.verify(f"{head}.{payload}.{flipped}")


def test_no_more_tokens_than_remember_are_kept(rsa_key, signer):
    verifier = remembering(rsa_key)
    tokens = [issue(signer, n=n) for n in range(25)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._signed) <= 10
    assert tokens[-1] in verifier._signed  # the newest are the ones kept
