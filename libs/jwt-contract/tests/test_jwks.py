import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwt_contract import JwksKeySet, SigningKey, TokenSigner, TokenVerifier, UnknownKey

from .conftest import AUDIENCE, ISSUER, issue, pem


class FakeAuth:
    """Stands in for the auth service's JWKS endpoint (a unit test of the cache)."""

    def __init__(self, keys):
        self.keys = keys
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return httpx.Response(
            200, json={"keys": [k.verification_key().to_jwk() for k in self.keys]}
        )


def key_set(auth, **kwargs):
    client = httpx.AsyncClient(transport=httpx.MockTransport(auth.handler))
    return JwksKeySet("http://auth/jwks", client=client, **kwargs)


async def test_keys_are_fetched_once_and_cached(rsa_key, signer):
    auth = FakeAuth([rsa_key])
    verifier = TokenVerifier(key_set(auth), issuer=ISSUER, audience=AUDIENCE)
    for _ in range(5):
        assert (await verifier.verify_async(issue(signer))).user_id == "u-1"
    assert auth.requests == 1


async def test_a_rotated_in_key_is_learned_on_first_sight(rsa_key, signer):
    auth = FakeAuth([rsa_key])
    keys = key_set(auth, min_refresh_seconds=0)
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify_async(issue(signer))
    new_key = SigningKey.from_pem(pem(rsa.generate_private_key(65537, 2048)))
    auth.keys = [rsa_key, new_key]
    token = issue(TokenSigner(new_key, issuer=ISSUER, audience=AUDIENCE))
    assert (await verifier.verify_async(token)).username == "user1"


async def test_unknown_kids_cannot_hammer_the_auth_service(rsa_key):
    auth = FakeAuth([rsa_key])
    verifier = TokenVerifier(
        key_set(auth, min_refresh_seconds=60), issuer=ISSUER, audience=AUDIENCE
    )
    stranger = SigningKey.from_pem(pem(rsa.generate_private_key(65537, 2048)))
    token = issue(TokenSigner(stranger, issuer=ISSUER, audience=AUDIENCE))
    for _ in range(20):
        with pytest.raises(UnknownKey):
            await verifier.verify_async(token)
    assert auth.requests == 1


async def test_an_unreachable_auth_service_rejects_tokens_instead_of_crashing(signer):
    def down(request):
        raise httpx.ConnectError("refused")

    keys = JwksKeySet(
        "http://auth/jwks", client=httpx.AsyncClient(transport=httpx.MockTransport(down))
    )
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(UnknownKey):
        await verifier.verify_async(issue(signer))
