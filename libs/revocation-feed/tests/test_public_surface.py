"""The names the services import from revocation_feed, pinned."""

import revocation_feed


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(revocation_feed.__all__) == [
        "REVOCATION_EVENTS",
        "RevocationFeed",
        "SNAPSHOT_PATH",
        "snapshot_from_auth",
    ]
    for name in revocation_feed.__all__:
        assert getattr(revocation_feed, name) is not None, name


def test_it_listens_for_every_event_that_revokes_tokens():
    assert sorted(revocation_feed.REVOCATION_EVENTS) == [
        "api_key.revoked",
        "organization.deleted",
        "user.updated",
    ]
    assert revocation_feed.SNAPSHOT_PATH == "/internal/revocations"
