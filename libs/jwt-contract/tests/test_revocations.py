"""Revoked tokens are refused offline, from what the bus announced or auth listed."""

import pytest

from jwt_contract import InvalidToken, Revocations, StaticKeySet, TokenVerifier

from .conftest import AUDIENCE, ISSUER, issue


@pytest.fixture
def revocations():
    now = [1_000_000.0]
    revoked = Revocations(retention=100, clock=lambda: now[0])
    revoked.now = now  # type: ignore[attr-defined]
    return revoked


@pytest.fixture
def checked(rsa_key, revocations):
    return TokenVerifier(
        StaticKeySet([rsa_key.verification_key()]),
        issuer=ISSUER,
        audience=AUDIENCE,
        revocations=revocations,
    )


def test_a_raised_token_version_refuses_older_tokens_only(signer, checked, revocations):
    old, new = issue(signer, tv=0), issue(signer, tv=1)
    assert revocations.apply_event("user.updated", {"userId": "u-1", "tokenVersion": 1})
    with pytest.raises(InvalidToken, match="revoked"):
        checked.verify(old)
    with pytest.raises(InvalidToken):
        checked.verify(issue(signer))  # no tv claim: version 0
    assert checked.verify(new).user_id == "u-1"
    # A late, older announcement does not undo it.
    revocations.apply_event("user.updated", {"userId": "u-1", "tokenVersion": 0})
    with pytest.raises(InvalidToken):
        checked.verify(old)
    # Refresh tokens go back to auth, which decides afresh.
    assert checked.verify(issue(signer, token_type="refresh", tv=0), "refresh")


def test_a_revoked_key_is_refused_from_its_effective_time(signer, checked, revocations):
    token = issue(signer, keyId="k-1")
    other = issue(signer, keyId="k-2")
    revocations.apply_event("api_key.revoked", {"keyId": "k-1", "effectiveAt": 1_000_060.0})
    assert checked.verify(token)  # a rotated key's grace period
    revocations.now[0] += 61
    with pytest.raises(InvalidToken, match="API key"):
        checked.verify(token)
    assert checked.verify(other)
    revocations.apply_event("api_key.revoked", {"keyId": "k-2"})  # now
    with pytest.raises(InvalidToken):
        checked.verify(other)


def test_a_deleted_organizations_keys_are_refused(signer, checked, revocations):
    token = issue(signer, keyId="k-9", organizationId="org-1")
    revocations.apply_event("organization.deleted", {"organizationId": "org-1"})
    with pytest.raises(InvalidToken, match="organization"):
        checked.verify(token)


def test_auths_snapshot_is_merged(signer, checked, revocations):
    revocations.merge({"users": {"u-1": 2}, "keys": {"k-1": 999_999.0}, "organizations": ["org-1"]})
    for token in (
        issue(signer, tv=1),
        issue(signer, tv=2, keyId="k-1"),
        issue(signer, tv=2, organizationId="org-1"),
    ):
        with pytest.raises(InvalidToken):
            checked.verify(token)
    assert checked.verify(issue(signer, tv=2))


def test_malformed_or_unrelated_events_change_nothing(revocations):
    assert not revocations.apply_event("user.updated", {"userId": "u", "tokenVersion": "2"})
    assert not revocations.apply_event("user.updated", {"userId": 5, "tokenVersion": 2})
    assert not revocations.apply_event("api_key.revoked", {})
    assert not revocations.apply_event("usage.recorded", {"userId": "u"})
    assert len(revocations) == 0


def test_old_entries_are_forgotten(revocations):
    revocations.apply_event("organization.deleted", {"organizationId": "org-1"})
    revocations.apply_event("api_key.revoked", {"keyId": "k", "effectiveAt": 1_000_050.0})
    revocations.now[0] += 101
    revocations.forget_old()
    assert len(revocations) == 1  # the key's effective time is still within retention
    revocations.now[0] += 100
    revocations.forget_old()
    assert len(revocations) == 0
