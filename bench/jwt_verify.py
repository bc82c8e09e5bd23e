"""JWT verification: the platform's hand-written verifier against PyJWT, side by side.

    uv run --frozen python -m bench.jwt_verify [--seconds 6] [--rounds 5]

Everything runs in this process on one thread, so each figure is verifications per CPU
second: per core. The candidates verify the same RS256 tokens (RSA 2048, as auth's key) from
``jwt_contract.TokenSigner``, a user's access token and a service's own token, and end in the
same principal:

  hand-written   ``jwt_contract.TokenVerifier`` as the services use it (``cryptography``
                 directly, header parsed once per distinct header).
  PyJWT.decode   the same verifier with its signature-and-claims step done by PyJWT: a
                 ``jwt.PyJWT`` made once with the required claims, a ``jwt.PyJWK`` cached per
                 kid (so the algorithm is pinned per key), ``iss``/``aud``/``exp`` and leeway
                 checked by PyJWT; kid, ``crit`` and ``alg`` read once per distinct header.
  PyJWS.decode   the cheapest use of the library: PyJWS checks the signature with the cached
                 PyJWK, the contract's own code checks the claims.
  RSA only       ``cryptography``'s RSA verify of the same signature and nothing else: the
                 ceiling for any implementation on this machine.

The rounds interleave the candidates, so load from other processes falls on all of them
alike; each figure is the median round. Before timing, every candidate must accept the good
tokens and refuse a forged signature, an HS256 token signed with the public key, a ``crit``
header and an expired token. Target: 20,000 verifications/s per core; the library is kept
when it reaches 13,334/s (the target within 1.5x).
"""

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jwt_contract import (
    InvalidToken,
    Principal,
    ServicePrincipal,
    SigningKey,
    StaticKeySet,
    TokenSigner,
    TokenVerifier,
    UnknownKey,
)
from jwt_contract.keys import b64url_decode, b64url_encode

TARGET = 20_000
KEPT_AT = TARGET / 1.5
KINDS = ("access", "service")
HAND_WRITTEN = "hand-written  jwt_contract.TokenVerifier"
ISSUER, AUDIENCE, LEEWAY = "bench-issuer", "bench-audience", 30
REQUIRED_CLAIMS = ["iss", "aud", "exp", "sub", "jti", "type"]


class PyJWTVerifier(TokenVerifier):
    """The contract's verifier with the signature and common claims checked by PyJWT.

    Only ``_verified_claims`` differs, so both candidates build principals and consult
    revocations with the same code."""

    def __init__(self, keys: StaticKeySet) -> None:
        super().__init__(keys, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=LEEWAY)
        self._decoder = jwt.PyJWT(options={"require": REQUIRED_CLAIMS})
        self._pyjwks: dict[str, jwt.PyJWK] = {}
        self._kids: dict[str, tuple[str, str]] = {}

    def _verified_claims(self, token: str) -> dict[str, Any]:
        alg, kid = self._alg_and_kid(token)
        key = self._key(kid)
        if key.algorithm_name != alg:
            raise InvalidToken(f"alg {alg!r} does not match key {kid!r}")
        try:
            return self._decoder.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc

    def _alg_and_kid(self, token: str) -> tuple[str, str]:
        segment = token.partition(".")[0]
        known = self._kids.get(segment)
        if known is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        alg, kid = header.get("alg"), header.get("kid")
        if "crit" in header:
            raise InvalidToken("crit header not supported")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidToken("missing or 'none' alg")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing kid")
        if len(self._kids) < 64:
            self._kids[segment] = (alg, kid)
        return alg, kid

    def _key(self, kid: str) -> jwt.PyJWK:
        key = self._pyjwks.get(kid)
        if key is None:
            known = self.keys.get(kid)
            if known is None:
                raise UnknownKey(kid)
            key = self._pyjwks[kid] = jwt.PyJWK(known.to_jwk())
        return key


class PyJWSVerifier(PyJWTVerifier):
    """PyJWS for the signature only; the claims are checked here, as the hand-written one does."""

    def __init__(self, keys: StaticKeySet) -> None:
        super().__init__(keys)
        self._jws = jwt.PyJWS()

    def _verified_claims(self, token: str) -> dict[str, Any]:
        alg, kid = self._alg_and_kid(token)
        key = self._key(kid)
        if key.algorithm_name != alg:
            raise InvalidToken(f"alg {alg!r} does not match key {kid!r}")
        try:
            payload = self._jws.decode(token, key, algorithms=[key.algorithm_name])
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        claims = orjson.loads(payload)
        if not isinstance(claims, dict):
            raise InvalidToken("payload is not a JSON object")
        self._check_common(claims)
        return claims


def rsa_only(key: rsa.RSAPublicKey, token: str) -> Callable[[], object]:
    signed, _, signature = token.rpartition(".")
    message, raw = signed.encode("ascii"), b64url_decode(signature)
    return lambda: key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())


def forgeries(key: rsa.RSAPrivateKey, kid: str, signer: TokenSigner, good: str) -> list[str]:
    """Tokens every candidate must refuse."""
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u",
        "username": "u",
        "email": "u@example.com",
        "role": "enduser",
        "type": "access",
        "jti": "j",
        "exp": int(time.time()) + 60,
    }
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head = b64url_encode(orjson.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}))
    body = b64url_encode(orjson.dumps(claims))
    mac = hmac.HMAC(public_pem, hashes.SHA256())
    mac.update(f"{head}.{body}".encode())
    expired, _ = signer.issue(
        user_id="u",
        username="u",
        email="u@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=-3600,
    )
    return [
        good[: good.rindex(".") + 1] + b64url_encode(os.urandom(256)),
        f"{head}.{body}.{b64url_encode(mac.finalize())}",
        jwt.encode(claims, key, "RS256", headers={"kid": kid, "crit": ["exp"]}),
        expired,
    ]


def check(verifier: TokenVerifier, access: str, service: str, forged: list[str]) -> None:
    assert isinstance(verifier.verify(access), Principal)
    assert isinstance(verifier.verify_service(service), ServicePrincipal)
    for token in forged:
        try:
            verifier.verify(token)
        except InvalidToken:
            continue
        raise AssertionError(f"{type(verifier).__name__} accepted a forged token")


def per_cpu_second(fn: Callable[[], object], seconds: float) -> float:
    count, started = 0, time.process_time()
    while True:
        for _ in range(200):
            fn()
        count += 200
        spent = time.process_time() - started
        if spent >= seconds:
            return count / spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="CPU seconds per figure")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signing_key = SigningKey.from_pem(pem)
    signer = TokenSigner(signing_key, issuer=ISSUER, audience=AUDIENCE)
    access, _ = signer.issue(
        user_id="3f1c0c52-6d0c-4c1e-9a57-0c7f4f5a9b10",
        username="user1",
        email="user1@example.com",
        role="enduser",
        token_type="access",
        ttl_seconds=3600,
        extra={"tv": 0},
    )
    service, _ = signer.issue_service(
        service="chat", scopes=["credits:reserve", "credits:settle"], ttl_seconds=600
    )
    keys = StaticKeySet([signing_key.verification_key()])
    candidates: dict[str, TokenVerifier] = {
        HAND_WRITTEN: TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway_seconds=LEEWAY),
        "PyJWT         PyJWT.decode, cached PyJWK": PyJWTVerifier(keys),
        "PyJWT         PyJWS.decode + own claims": PyJWSVerifier(keys),
    }
    forged = forgeries(private, signing_key.kid, signer, access)
    for verifier in candidates.values():
        check(verifier, access, service, forged)

    workloads: dict[str, dict[str, Callable[[], object]]] = {
        name: {
            "access": lambda v=verifier: v.verify(access),
            "service": lambda v=verifier: v.verify_service(service),
        }
        for name, verifier in candidates.items()
    }
    workloads["reference     cryptography RSA verify only"] = {
        "access": rsa_only(private.public_key(), access),
        "service": rsa_only(private.public_key(), service),
    }
    slice_seconds = args.seconds / args.rounds
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, kinds in workloads.items():
            for kind, fn in kinds.items():
                figures.setdefault((name, kind), []).append(per_cpu_second(fn, slice_seconds))
    report({key: statistics.median(values) for key, values in figures.items()}, args.rounds)


def report(median: dict[tuple[str, str], float], rounds: int) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"JWT verification, RS256 (RSA 2048), one thread: verifications per CPU second "
        f"(median of {rounds} interleaved rounds; load average {load} on {os.cpu_count()} cores)"
    )
    print(f"target {TARGET:,} /s per core; a library is kept at >= {math.ceil(KEPT_AT):,} /s\n")
    print(f"  {'':<42} {'access token':>14} {'service token':>14}")
    names = list(dict.fromkeys(name for name, _ in median))
    for name in names:
        row = [median[(name, kind)] for kind in KINDS]
        versus = "  ".join(f"{value / TARGET:.2f}x" for value in row)
        print(f"  {name:<42} {row[0]:>11,.0f} /s {row[1]:>11,.0f} /s   (of the target: {versus})")
    # The library must do for both kinds of token; its best use is what the rule weighs.
    library_name = max(
        (name for name in names if name.startswith("PyJWT")),
        key=lambda name: min(median[(name, kind)] for kind in KINDS),
    )
    library = min(median[(library_name, kind)] for kind in KINDS)
    own = min(median[(HAND_WRITTEN, kind)] for kind in KINDS)
    verdict = "use PyJWT" if library >= KEPT_AT else "keep the hand-written verifier"
    shortfall = f"{TARGET / library:.2f}x below the target" if library < TARGET else "at target"
    print(
        f"\nbest PyJWT use ({library_name.split(maxsplit=1)[1]}), slower token kind: "
        f"{library:,.0f} /s, {shortfall} (the rule allows 1.50x); the hand-written verifier "
        f"is {own / library:.2f}x as fast: {verdict}"
    )


if __name__ == "__main__":
    main()
