"""The names the services import from idempotency, pinned."""

import idempotency


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(idempotency.__all__) == [
        "IDEMPOTENCY_RESPONSES",
        "IN_PROGRESS_WAIT",
        "IdempotencyKey",
        "IdempotentRequest",
        "KEY_TTL",
        "MIGRATIONS",
        "Once",
        "PURGE_BATCH",
        "REPLAYED_HEADER",
        "REPLAY_DESCRIPTION",
        "StoredResponse",
        "answer",
        "claim",
        "idempotent_request",
        "idempotent_responses",
        "record",
        "replayed_header_doc",
    ]
    for name in idempotency.__all__:
        assert getattr(idempotency, name) is not None, name
