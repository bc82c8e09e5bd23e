"""AES-256-GCM under versioned master keys: what one box seals, only the right key and the
right context open."""

import base64
import os
import uuid

import pytest

import sealed_secrets
from sealed_secrets import Sealed, SecretBox, SecretNotReadable, key_id, master_key, master_keys


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(sealed_secrets.__all__) == [
        "KEY_BYTES",
        "NONCE_BYTES",
        "Sealed",
        "SecretBox",
        "SecretNotReadable",
        "key_id",
        "master_key",
        "master_keys",
        "reseal_all",
    ]


def test_a_sealed_secret_opens_with_its_key_and_context():
    box = SecretBox(os.urandom(32))
    owner = uuid.uuid4().bytes
    sealed = box.seal(b"sk-live-secret", context=owner)
    assert sealed.key_id == box.current_key_id
    assert b"sk-live-secret" not in sealed.blob
    assert box.open(sealed, context=owner) == b"sk-live-secret"


def test_each_seal_has_its_own_nonce():
    box = SecretBox(os.urandom(32))
    first, second = (box.seal(b"same", context=b"u") for _ in range(2))
    assert first.blob != second.blob


def test_another_context_does_not_open_it():
    box = SecretBox(os.urandom(32))
    sealed = box.seal(b"secret", context=uuid.uuid4().bytes)
    with pytest.raises(SecretNotReadable):
        box.open(sealed, context=uuid.uuid4().bytes)


def test_a_tampered_ciphertext_does_not_open():
    box = SecretBox(os.urandom(32))
    sealed = box.seal(b"secret", context=b"u")
    flipped = bytes([sealed.blob[-1] ^ 1])
    with pytest.raises(SecretNotReadable):
        box.open(Sealed(sealed.key_id, sealed.blob[:-1] + flipped), context=b"u")


def test_a_key_that_is_not_configured_is_named():
    sealed = SecretBox(os.urandom(32)).seal(b"secret", context=b"u")
    with pytest.raises(SecretNotReadable, match=sealed.key_id):
        SecretBox(os.urandom(32)).open(sealed, context=b"u")


def test_after_a_rotation_old_secrets_still_open_and_new_ones_use_the_new_key():
    old, new = os.urandom(32), os.urandom(32)
    sealed_before = SecretBox(old).seal(b"before", context=b"u")
    rotated = SecretBox(new, [old])
    assert rotated.current_key_id == key_id(new) != key_id(old)
    assert rotated.open(sealed_before, context=b"u") == b"before"
    assert rotated.seal(b"after", context=b"u").key_id == key_id(new)


def test_keys_decode_from_base64_and_a_wrong_one_names_its_variable():
    key, old = os.urandom(32), os.urandom(32)
    text, old_text = base64.b64encode(key).decode(), base64.b64encode(old).decode()
    assert master_key(text, "K") == key
    assert master_keys(text, f" {old_text} ,", current_variable="K", previous_variable="P") == (
        key,
        [old],
    )
    with pytest.raises(ValueError, match="K must be base64"):
        master_key("not base64!", "K")
    with pytest.raises(ValueError, match="P must decode to 32 bytes, not 16"):
        master_keys(
            text,
            base64.b64encode(os.urandom(16)).decode(),
            current_variable="K",
            previous_variable="P",
        )
